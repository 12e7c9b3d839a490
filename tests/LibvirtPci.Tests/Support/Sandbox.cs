using System.Diagnostics;

namespace LibvirtPci.Tests.Support;

/// <summary>
/// A real libvirt daemon that tools/libvirt-sandbox.sh runs privately and asks what libvirt stores
/// for a domain XML: the host's (Debian 12's libvirt 9.0 in CI), or Debian 13's libvirt 11.3 in a
/// chroot (`--debian trixie`, made once by .ci/run). Integration tests use them as oracles.
/// </summary>
public sealed class LibvirtDaemon
{
    private readonly string[] _select;
    private readonly Lazy<string?> _unavailable;

    private LibvirtDaemon(string name, string[] select, Func<string?> prerequisites)
    {
        Name = name;
        _select = select;
        _unavailable = new(() =>
        {
            if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return $"the {Name} sandbox needs root on Linux";
            if (!File.Exists("/usr/bin/virsh") || !File.Exists("/usr/bin/xmlstarlet"))
                return "virsh/xmlstarlet are not installed (apt-get install libvirt-clients xmlstarlet)";
            if (prerequisites() is { } missing) return missing;
            var start = Run(["start"], null);
            return start.ExitCode == 0 ? null : $"the {Name} daemon did not start: " + start.Stderr;
        });
    }

    /// <summary>The host's libvirtd in a private mount namespace.</summary>
    public static LibvirtDaemon Host { get; } = new("host libvirt", [], () =>
        File.Exists("/usr/sbin/libvirtd") ? null
            : "libvirtd is not installed (apt-get install libvirt-daemon-driver-qemu libvirt-daemon libvirt-clients qemu-system-x86 xmlstarlet)");

    /// <summary>Debian 13's libvirt 11.3 with QEMU 10.0, in the chroot `libvirt-sandbox.sh --debian trixie make` builds.</summary>
    public static LibvirtDaemon Trixie { get; } = Chroot("trixie", "Debian 13 (trixie) libvirt");

    /// <summary>Debian 11's libvirt 7.0 with QEMU 5.2.</summary>
    public static LibvirtDaemon Bullseye { get; } = Chroot("bullseye", "Debian 11 (bullseye) libvirt");

    /// <summary>Debian 13's backports: libvirt 12.9 with QEMU 11.1.</summary>
    public static LibvirtDaemon TrixieBackports { get; } = Chroot("trixie-backports", "Debian 13 backports libvirt");

    /// <summary>A daemon by the name tests use: host, or a Debian suite whose chroot the sandbox makes.</summary>
    public static LibvirtDaemon Named(string name) => name switch
    {
        "host" => Host,
        "trixie" => Trixie,
        "bullseye" => Bullseye,
        "trixie-backports" => TrixieBackports,
        _ => throw new ArgumentException($"no daemon '{name}'"),
    };

    private static LibvirtDaemon Chroot(string suite, string name) => new(name, ["--debian", suite], () =>
        File.Exists(Path.Combine("/var/tmp/libvirt-pci-" + suite, "root", "usr", "sbin", "libvirtd")) ? null
            : $"the {suite} chroot is not made (bash tools/libvirt-sandbox.sh --debian {suite} make; .ci/run does it)");

    public string Name { get; }

    public static string Script => Path.Combine(Paths.Tools, "libvirt-sandbox.sh");

    /// <summary>Null when the daemon can be used; else why not.</summary>
    public string? WhyUnavailable() => _unavailable.Value;

    /// <summary>Skips the calling test with the reason (fails it under CI) when the daemon cannot run.</summary>
    public void Require() => global::LibvirtPci.Tests.Support.Require.Available(WhyUnavailable());

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>define + dumpxml --inactive + undefine of <paramref name="xml"/>.</summary>
    public Result Define(string xml, bool validate = false) =>
        Run(validate ? ["--validate", "-"] : ["-"], xml);

    public string Uri => _uri ??= Run(["uri"], null).Stdout.Trim();
    private string? _uri;
    private static int _stored;

    /// <summary>
    /// What libvirt stores for <paramref name="xml"/>, as fast as virsh can say it (one virsh process:
    /// define, dumpxml --inactive, undefine; ~30 ms against ~150 ms through the script), for harnesses
    /// that define thousands of documents. The document is defined under a fresh name and without
    /// its uuid (callers may run in parallel); the output carries the input's name again and the uuid
    /// libvirt gave it, as a stored document does. Call <see cref="Require"/> first.
    /// </summary>
    public Result Store(string xml, bool validate = false)
    {
        var name = System.Text.RegularExpressions.Regex.Match(xml, "<name>([^<]*)</name>").Groups[1].Value;
        var temp = $"harness-{Environment.ProcessId}-{Interlocked.Increment(ref _stored)}";
        var renamed = System.Text.RegularExpressions.Regex.Replace(xml, "<name>[^<]*</name>", $"<name>{temp}</name>");
        renamed = System.Text.RegularExpressions.Regex.Replace(renamed, @"\s*<uuid>[^<]*</uuid>", "");
        var file = Path.Combine(Path.GetTempPath(), temp + ".xml");
        File.WriteAllText(file, renamed);
        try
        {
            var r = DefineDumpUndefine(file, temp, validate);
            if (!r.Out.Contains("<domain", StringComparison.Ordinal))
            {
                Proc.Run("virsh", ["-q", "-c", Uri, "undefine", temp]);
                return new Result(3, "", r.Err);
            }
            return new Result(0, r.Out.Replace($"<name>{temp}</name>", $"<name>{name}</name>", StringComparison.Ordinal).TrimEnd() + "\n", r.Err);
        }
        finally { File.Delete(file); }
    }

    /// <summary>
    /// One virsh process that defines, dumps and undefines. A validating define is retried when the
    /// daemon could not load its own schema ("Unable to parse RelaxNG schema … Error type 'string' is
    /// not exported by type library"): libxml2 registers the XML Schema datatypes lazily and not
    /// thread-safely, so two worker threads validating at once can fail to see them (seen once in
    /// ~2,300 defines on the 11.3 daemon, CI 2026-12-07). That is the daemon's fault, not a verdict
    /// on the document; any other refusal is returned at once.
    /// </summary>
    private Proc.Result DefineDumpUndefine(string file, string temp, bool validate)
    {
        for (var attempt = 1; ; attempt++)
        {
            var r = Proc.Run("virsh", ["-q", "-c", Uri, $"define {(validate ? "--validate " : "")}{file}; dumpxml --inactive {temp}; undefine {temp}"]);
            if (attempt == 3 || !r.Err.Contains("Unable to parse RelaxNG schema", StringComparison.Ordinal)) return r;
        }
    }

    /// <summary>The daemon's own version ("9.0.0"), as `virsh version --daemon` reports it.</summary>
    public string DaemonVersion()
    {
        var r = Run(["version"], null);
        return r.ExitCode == 0 && r.Stdout.Trim().Length > 0 ? r.Stdout.Trim() : throw new InvalidOperationException($"{Name}: version said: " + r.Stdout + r.Stderr);
    }

    private Result Run(string[] args, string? stdin)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(Script);
        foreach (var a in _select.Concat(args)) psi.ArgumentList.Add(a);
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

/// <summary>The host's libvirt daemon, which most integration tests ask (see <see cref="LibvirtDaemon.Host"/>).</summary>
public static class Sandbox
{
    public static void Require() => LibvirtDaemon.Host.Require();
    public static LibvirtDaemon.Result Define(string xml, bool validate = false) => LibvirtDaemon.Host.Define(xml, validate);
    public static string Uri => LibvirtDaemon.Host.Uri;
    public static string DaemonVersion() => LibvirtDaemon.Host.DaemonVersion();
}
