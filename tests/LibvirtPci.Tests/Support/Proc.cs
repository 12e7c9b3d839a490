using System.Diagnostics;

namespace LibvirtPci.Tests.Support;

/// <summary>Runs a real program (git, virsh, dotnet, the built tool) and captures what it printed.</summary>
public static class Proc
{
    public sealed record Result(int Code, string Out, string Err);

    public static Result Run(string file, IEnumerable<string> args, string? workDir = null, IReadOnlyDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workDir is not null) psi.WorkingDirectory = workDir;
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return new Result(p.ExitCode, o.Result, e.Result);
    }
}
