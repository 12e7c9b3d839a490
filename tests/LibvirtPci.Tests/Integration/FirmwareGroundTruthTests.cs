using LibvirtPci.Tools;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using LibvirtPci.Limits;
using LibvirtPci.Passthrough;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Support;
using LibvirtPci.Xml;
using Xunit.Abstractions;

namespace LibvirtPci.Tests.Integration;

/// <summary>
/// The I/O-space prediction against real boots: for each scenario a domain XML is built, the
/// tool predicts (boots or not, which ports/devices lack I/O), and tools/qemu-boot-probe.sh
/// boots the same topology under QEMU (TCG) with real SeaBIOS or OVMF and a real Linux guest —
/// on this host (Debian 12: QEMU 7.2, SeaBIOS 1.16.2, OVMF 2022.11) and with the QEMU and
/// firmware of each Debian chroot the daemon tests use (11: 5.2/1.14.0/2020.11; 13: 10.0/1.16.3/
/// 2025.02; 13-backports: 11.1.3/1.17.0/2025.02), predicted with that host's OVMF release.
/// </summary>
[Trait("Category", "Integration")]
public sealed class FirmwareGroundTruthTests(ITestOutputHelper output)
{
    public sealed record Scenario(string Firmware, string Machine, int Ports, int Filled, string Kind, bool IoReserveOff)
    {
        public override string ToString() => $"{Firmware} {Machine} N={Ports} {Kind}×{Filled}{(IoReserveOff ? " io-reserve=0" : "")}";
    }

    /// <summary>Where a probe boots: this host's QEMU and firmware, or a chroot's (tools/libvirt-sandbox.sh --debian SUITE make).</summary>
    public sealed record BootHost(string Name, string? Root)
    {
        public override string ToString() => Name;
    }

    public static readonly Scenario[] Scenarios =
    {
        new("seabios", "q35", 14, 14, "e1000e", false),        // at the limit
        new("seabios", "q35", 15, 15, "e1000e", false),        // one past: firmware panic
        new("seabios", "q35", 15, 0, "empty", false),          // empty ports cost the firmware nothing
        new("seabios", "q35", 15, 15, "virtio", false),        // nor do modern virtio devices
        new("seabios", "q35", 14, 14, "br-e1000", false),
        new("seabios", "q35", 15, 15, "br-e1000", false),
        new("seabios", "q35", 8, 8, "e1000e", true),           // the fix costs I/O-BAR devices their I/O
        new("seabios", "pc-q35-6.1", 15, 0, "empty", false),   // the famous case
        new("seabios", "pc-q35-6.1", 15, 0, "empty", true),    // ... and where the fix is the fix
        new("ovmf", "q35", 9, 9, "e1000e", false),
        new("ovmf", "q35", 10, 10, "e1000e", false),           // OVMF 2022.11: total failure; 2020.11, 2025.02: one NIC unprogrammed
        new("ovmf", "q35", 10, 9, "e1000e", false),            // 9 + one empty port: 2022.11 fails whole too; the others program all
        new("ovmf", "q35", 12, 12, "e1000e", false),           // 2020.11, 2025.02: three NICs unprogrammed
        new("ovmf", "q35", 15, 0, "empty", false),
        new("ovmf", "q35", 8, 8, "e1000e", true),
    };

    /// <summary>What the other releases are booted with: the cases that tell releases apart, and the limits that hold on all.</summary>
    private static readonly HashSet<string> AcrossReleases =
    [
        "seabios q35 N=14 e1000e×14", "seabios q35 N=15 e1000e×15", "seabios q35 N=15 empty×0", "seabios pc-q35-6.1 N=15 empty×0",
        "ovmf q35 N=9 e1000e×9", "ovmf q35 N=10 e1000e×10", "ovmf q35 N=10 e1000e×9", "ovmf q35 N=12 e1000e×12",
    ];

    public static readonly BootHost[] Hosts =
    [
        new("Debian 12 (this host)", null),
        new("Debian 11", "/var/tmp/libvirt-pci-bullseye/root"),
        new("Debian 13", "/var/tmp/libvirt-pci-trixie/root"),
        new("Debian 13-backports", "/var/tmp/libvirt-pci-trixie-backports/root"),
    ];

    [SkippableFact]
    public void Predictions_match_what_the_firmware_and_guest_did()
    {
        var probe = Path.Combine(Paths.Tools, "qemu-boot-probe.sh");
        Require.Available(!File.Exists("/usr/bin/qemu-system-x86_64") ? "qemu-system-x86 is not installed"
            : !Directory.EnumerateFiles("/boot", "vmlinuz-*").Any() || !File.Exists("/bin/busybox") ? "no guest kernel in /boot or no busybox (apt-get install linux-image-amd64 busybox-static)"
            : !File.Exists("/usr/share/OVMF/OVMF_CODE_4M.fd") ? "ovmf is not installed" : null);
        foreach (var host in Hosts.Where(h => h.Root is not null))
            Require.Available(File.Exists($"{host.Root}/usr/share/OVMF/OVMF_CODE_4M.fd") && Environment.UserName == "root"
                ? null : $"{host}: the chroot {host.Root} is not made, or not root (bash tools/libvirt-sandbox.sh --debian SUITE make)");
        var runs = Hosts.SelectMany(h => Scenarios.Where(s => h.Root is null || AcrossReleases.Contains(s.ToString())).Select(s => (Host: h, Scenario: s))).ToList();
        var results = new ConcurrentDictionary<(BootHost, Scenario), string>();
        Parallel.ForEach(runs, new ParallelOptions { MaxDegreeOfParallelism = 2 }, r => results[r] = RunProbe(probe, r.Host, r.Scenario));

        var failures = new List<string>();
        int compared = 0;
        foreach (var (host, s) in runs)
        {
            var line = results[(host, s)].Trim();
            var actual = Parse(line);
            if (actual.GetValueOrDefault("machine") == "missing")
            {
                output.WriteLine($"{host}: {s}: this QEMU has no {s.Machine} (not a case there)");
                continue;
            }
            var release = actual.GetValueOrDefault("ovmf") ?? "";
            var predicted = Predict(s, FirmwareReleases.Known(release));
            var verdict = Compare(s, predicted, actual);
            compared++;
            output.WriteLine($"{host}: {s}: predicted boots={!predicted.BootFails} barsUnset={predicted.FirmwareLeavesBarsUnset} portsNoIo={predicted.PortsWithoutIoInGuest} devsLosingIo={predicted.DevicesLosingIo.Count} | probe {line} | {(verdict ?? "match")}");
            if (verdict is not null) failures.Add($"{host}: {s}: {verdict}\n  probe: {line}");
        }
        output.WriteLine($"{compared} boots compared, {failures.Count} differ");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string? Compare(Scenario s, IoSpaceAnalysis p, Dictionary<string, string> a)
    {
        bool panicked = a["end"] == "fw_panic";
        if (s.Firmware == "seabios" && p.BootFails != panicked)
            return $"predicted {(p.BootFails ? "a firmware panic" : "a boot")}, SeaBIOS {(panicked ? "panicked" : "booted")}";
        // OVMF that gives up leaves even the chipset's own BARs (bus 0: AHCI, SMBus) unprogrammed: no boot disk
        bool gaveUp = int.Parse(a["fw_root_bars_unassigned"]) > 0;
        if (s.Firmware == "ovmf" && p.BootFails != gaveUp)
            return $"predicted OVMF {a.GetValueOrDefault("ovmf")} {(p.BootFails ? "to program nothing" : "to program the chipset")}, it left {a["fw_root_bars_unassigned"]} BARs on bus 0 unset";
        bool unset = int.Parse(a["fw_bars_unassigned"]) > 0;
        if (s.Firmware == "ovmf" && p.FirmwareLeavesBarsUnset != unset)
            return $"predicted OVMF {a.GetValueOrDefault("ovmf")} {(p.FirmwareLeavesBarsUnset ? "to leave BARs unset" : "to program every BAR")}, it {(unset ? "left" : "did not leave")} {a["fw_bars_unassigned"]} unset";
        if (panicked || unset) return null;
        if (a["boot"] != "ok") return "the guest did not boot";
        if (s.IoReserveOff)
        {
            int missing = int.Parse(a["devs_io_hw_missing"]);
            return p.DevicesLosingIo.Count == missing ? null : $"predicted {p.DevicesLosingIo.Count} devices without I/O, the hardware had {missing}";
        }
        int noIo = int.Parse(a["rp_noio_linux"]);
        return p.PortsWithoutIoInGuest == noIo ? null : $"predicted {p.PortsWithoutIoInGuest} root ports without I/O in the guest, Linux had {noIo}";
    }

    /// <summary>The scenario as a domain XML in libvirt's layout, run through the tool.</summary>
    public static IoSpaceAnalysis Predict(Scenario s, FirmwareReleases firmware)
    {
        var xml = DomainXml(s);
        var plan = Rewriter.Assign(SourceText.FromString("probe.xml", xml), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, IoReserve = s.IoReserveOff ? IoReserveMode.Off : IoReserveMode.Keep, Firmware = firmware });
        return IoSpaceBudget.Analyze(global::LibvirtPci.Domain.DomainDefinition.Parse(SourceText.FromString("probe.xml", plan.Text)), firmware)!;
    }

    public static string DomainXml(Scenario s)
    {
        var sb = new StringBuilder();
        sb.Append("<domain type='qemu'>\n  <name>probe</name>\n  <memory unit='MiB'>512</memory>\n");
        sb.Append($"  <os{(s.Firmware == "ovmf" ? " firmware='efi'" : "")}>\n    <type arch='x86_64' machine='{s.Machine}'>hvm</type>\n  </os>\n  <devices>\n");
        sb.Append("    <controller type='usb' index='0' model='none'/>\n    <controller type='pci' index='0' model='pcie-root'/>\n");
        for (int i = 0; i < s.Ports; i++)
            sb.Append($"    <controller type='pci' index='{i + 1}' model='pcie-root-port'>\n      <model name='pcie-root-port'/>\n      <target chassis='{i + 1}' port='0x{0x10 + i:x}'/>\n" +
                      $"      <address type='pci' domain='0x0000' bus='0x00' slot='0x{2 + i / 8:x2}' function='0x{i % 8:x}'{(i % 8 == 0 ? " multifunction='on'" : "")}/>\n    </controller>\n");
        for (int i = 0; i < s.Filled; i++)
        {
            var mac = $"52:54:00:00:00:{i:x2}";
            if (s.Kind == "br-e1000")
            {
                int bridge = s.Ports + 1 + i;
                sb.Append($"    <controller type='pci' index='{bridge}' model='pcie-to-pci-bridge'>\n      <model name='pcie-pci-bridge'/>\n      <address type='pci' domain='0x0000' bus='0x{i + 1:x2}' slot='0x00' function='0x0'/>\n    </controller>\n");
                sb.Append($"    <interface type='user'>\n      <mac address='{mac}'/>\n      <model type='e1000'/>\n      <address type='pci' domain='0x0000' bus='0x{bridge:x2}' slot='0x01' function='0x0'/>\n    </interface>\n");
            }
            else
            {
                var model = s.Kind == "virtio-trans" ? "virtio-transitional" : s.Kind;
                sb.Append($"    <interface type='user'>\n      <mac address='{mac}'/>\n      <model type='{model}'/>\n      <address type='pci' domain='0x0000' bus='0x{i + 1:x2}' slot='0x00' function='0x0'/>\n    </interface>\n");
            }
        }
        sb.Append("    <memballoon model='none'/>\n  </devices>\n</domain>\n");
        return sb.ToString();
    }

    private static string RunProbe(string probe, BootHost host, Scenario s)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(probe);
        foreach (var a in new[] { s.Firmware, s.Ports.ToString(), s.IoReserveOff ? "0" : "default", s.Kind, s.Filled.ToString() }) psi.ArgumentList.Add(a);
        psi.Environment["MACHINE"] = s.Machine;
        psi.Environment["TIMEOUT"] = "240";
        psi.Environment["FIRMWARE_RELEASE"] = "1";
        if (host.Root is not null) psi.Environment["ROOT"] = host.Root;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return stdout;
    }

    private static Dictionary<string, string> Parse(string line) =>
        line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.First()[1]);
}
