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
/// boots the same topology under QEMU (TCG) with real SeaBIOS or OVMF and a real Linux guest.
/// </summary>
[Trait("Category", "Integration")]
public sealed class FirmwareGroundTruthTests(ITestOutputHelper output)
{
    public sealed record Scenario(string Firmware, string Machine, int Ports, int Filled, string Kind, bool IoReserveOff)
    {
        public override string ToString() => $"{Firmware} {Machine} N={Ports} {Kind}×{Filled}{(IoReserveOff ? " io-reserve=0" : "")}";
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
        new("ovmf", "q35", 10, 10, "e1000e", false),           // OVMF total failure
        new("ovmf", "q35", 10, 9, "e1000e", false),            // 9 + one empty port: also total failure
        new("ovmf", "q35", 15, 0, "empty", false),
        new("ovmf", "q35", 8, 8, "e1000e", true),
    };

    [SkippableFact]
    public void Predictions_match_what_the_firmware_and_guest_did()
    {
        var probe = Path.Combine(Paths.Tools, "qemu-boot-probe.sh");
        Require.Available(!File.Exists("/usr/bin/qemu-system-x86_64") ? "qemu-system-x86 is not installed"
            : !Directory.EnumerateFiles("/boot", "vmlinuz-*").Any() || !File.Exists("/bin/busybox") ? "no guest kernel in /boot or no busybox (apt-get install linux-image-amd64 busybox-static)"
            : !File.Exists("/usr/share/OVMF/OVMF_CODE_4M.fd") ? "ovmf is not installed" : null);
        var results = new ConcurrentDictionary<Scenario, string>();
        Parallel.ForEach(Scenarios, new ParallelOptions { MaxDegreeOfParallelism = 2 }, s => results[s] = RunProbe(probe, s));

        var failures = new List<string>();
        foreach (var s in Scenarios)
        {
            var predicted = Predict(s);
            var actual = Parse(results[s]);
            var verdict = Compare(s, predicted, actual);
            output.WriteLine($"{s}: predicted boots={!predicted.BootFails} barsUnset={predicted.FirmwareLeavesBarsUnset} portsNoIo={predicted.PortsWithoutIoInGuest} devsLosingIo={predicted.DevicesLosingIo.Count} | probe {results[s].Trim()} | {(verdict ?? "match")}");
            if (verdict is not null) failures.Add($"{s}: {verdict}\n  probe: {results[s].Trim()}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string? Compare(Scenario s, IoSpaceAnalysis p, Dictionary<string, string> a)
    {
        bool panicked = a["end"] == "fw_panic";
        if (s.Firmware == "seabios" && p.BootFails != panicked)
            return $"predicted {(p.BootFails ? "a firmware panic" : "a boot")}, SeaBIOS {(panicked ? "panicked" : "booted")}";
        bool unset = int.Parse(a["fw_bars_unassigned"]) > 0;
        if (s.Firmware == "ovmf" && p.FirmwareLeavesBarsUnset != unset)
            return $"predicted OVMF {(p.FirmwareLeavesBarsUnset ? "to leave BARs unset" : "to program every BAR")}, it {(unset ? "left" : "did not leave")} {a["fw_bars_unassigned"]} unset";
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
    public static IoSpaceAnalysis Predict(Scenario s)
    {
        var xml = DomainXml(s);
        var plan = Rewriter.Assign(SourceText.FromString("probe.xml", xml), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, IoReserve = s.IoReserveOff ? IoReserveMode.Off : IoReserveMode.Keep });
        return IoSpaceBudget.Analyze(global::LibvirtPci.Domain.DomainDefinition.Parse(SourceText.FromString("probe.xml", plan.Text)))!;
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

    private static string RunProbe(string probe, Scenario s)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(probe);
        foreach (var a in new[] { s.Firmware, s.Ports.ToString(), s.IoReserveOff ? "0" : "default", s.Kind, s.Filled.ToString() }) psi.ArgumentList.Add(a);
        psi.Environment["MACHINE"] = s.Machine;
        psi.Environment["TIMEOUT"] = "240";
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
