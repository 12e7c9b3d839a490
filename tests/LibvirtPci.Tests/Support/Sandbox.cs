using System.Diagnostics;

namespace LibvirtPci.Tests.Support;

/// <summary>
/// The real libvirt: tools/libvirt-sandbox.sh runs a private libvirtd (the host's libvirt, Debian
/// 12's 9.0 in CI) and prints what libvirt stores for a domain XML. Integration tests use it as the oracle.
/// </summary>
public static class Sandbox
{
    public static string Script => Path.Combine(Paths.Tools, "libvirt-sandbox.sh");

    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return "the libvirt sandbox needs root on Linux";
        if (!File.Exists("/usr/sbin/libvirtd") || !File.Exists("/usr/bin/virsh") || !File.Exists("/usr/bin/xmlstarlet"))
            return "libvirtd/virsh/xmlstarlet are not installed (apt-get install libvirt-daemon-driver-qemu libvirt-daemon libvirt-clients qemu-system-x86 xmlstarlet)";
        var start = RunScript(["start"], null);
        return start.ExitCode == 0 ? null : "the sandbox daemon did not start: " + start.Stderr;
    });

    /// <summary>Null when the sandbox can be used; else why not.</summary>
    public static string? WhyUnavailable() => Unavailable.Value;

    /// <summary>Skips the calling test with the reason (fails it under CI) when the sandbox cannot run.</summary>
    public static void Require() => global::LibvirtPci.Tests.Support.Require.Available(WhyUnavailable());

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>define + dumpxml --inactive + undefine of <paramref name="xml"/>.</summary>
    public static Result Define(string xml, bool validate = false) =>
        RunScript(validate ? ["--validate", "-"] : ["-"], xml);

    public static string Uri => RunScript(["uri"], null).Stdout.Trim();

    /// <summary>The daemon's own version ("9.0.0"), as `virsh version --daemon` reports it.</summary>
    public static string DaemonVersion()
    {
        var r = Proc.Run("virsh", ["-c", Uri, "version", "--daemon"]);
        var m = System.Text.RegularExpressions.Regex.Match(r.Out, @"Running against daemon: (\S+)");
        return m.Success ? m.Groups[1].Value : throw new InvalidOperationException("virsh version --daemon said: " + r.Out + r.Err);
    }

    private static Result RunScript(string[] args, string? stdin)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(Script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            return new Result(-1, "", "timed out");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
