using System.Diagnostics;

namespace LibvirtPci.Tests.Support;

/// <summary>
/// The real libvirt: ../shared/tools/libvirt-sandbox.sh runs a private libvirtd (Debian's 9.0)
/// and prints what libvirt stores for a domain XML. Integration tests use it as the oracle.
/// </summary>
public static class Sandbox
{
    public static string Script => Path.Combine(Paths.Shared, "tools", "libvirt-sandbox.sh");

    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        if (!File.Exists(Script)) return $"{Script} is missing";
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return "the sandbox needs root on Linux";
        if (!File.Exists("/usr/sbin/libvirtd") || !File.Exists("/usr/bin/virsh")) return "libvirtd/virsh are not installed (apt-get install libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86)";
        var start = RunScript(["--start"], null);
        return start.ExitCode == 0 ? null : "the sandbox daemon did not start: " + start.Stderr;
    });

    /// <summary>Null when the sandbox can be used; else why not. Under CI=true a missing sandbox is a failure.</summary>
    public static string? WhyUnavailable()
    {
        var why = Unavailable.Value;
        if (why is not null && Paths.IsCi) throw new InvalidOperationException("CI=true but the libvirt sandbox is unavailable: " + why);
        return why;
    }

    /// <summary>True (after saying why) when a test must skip for want of the sandbox; fails under CI=true instead.</summary>
    public static bool SkipUnlessAvailable(Xunit.Abstractions.ITestOutputHelper output)
    {
        if (WhyUnavailable() is not { } why) return false;
        output.WriteLine("skipped: " + why);
        return true;
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>define + dumpxml --inactive + undefine of <paramref name="xml"/>.</summary>
    public static Result Define(string xml, bool validate = false) =>
        RunScript(validate ? ["--validate", "-"] : ["-"], xml);

    public static string Uri => RunScript(["--uri"], null).Stdout.Trim();

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
