using System.Globalization;
using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Limits;

namespace LibvirtPci.Rendering;

/// <summary>
/// The PCI topology for machines and pictures: Graphviz DOT (each bus a cluster, root ports and
/// bridges with the bus they open, devices with the guest's address and Linux NIC name, ports
/// coloured by the I/O window they take against the firmware's budget, empty hotplug ports
/// dashed) and JSON. Pure: text in, text out; the CLI runs `dot` for SVG.
/// </summary>
public static class TopologyFormats
{
    internal static string Hex2(int v) => v.ToString("x2", CultureInfo.InvariantCulture);
    internal static string Bdf(PciAddress a) => $"{Hex2(a.Bus)}:{Hex2(a.Slot)}.{a.Function:x}";

    /// <summary>Each root port's I/O need, by the index of the bus it opens (a port without an index has no bus here).</summary>
    internal static Dictionary<int, PortIoNeed> PortNeeds(IoSpaceAnalysis? io)
    {
        var needs = new Dictionary<int, PortIoNeed>();
        foreach (var p in io?.Ports ?? [])
            if (p.Port.Index is { } index) needs.TryAdd(index, p);
        return needs;
    }

    /// <summary>
    /// The ports a view marks, by the bus index they open: past the firmware's limit (the windows
    /// beyond its budget, in the order the firmware scans the buses), and the hot-plug ports a
    /// Linux guest leaves without an I/O window (the last ones, as lint's LP604 says).
    /// </summary>
    public static (HashSet<int> PastFirmware, HashSet<int> NoIoInGuest) MarkedPorts(IoSpaceAnalysis? io, Topology topology)
    {
        var past = new HashSet<int>();
        var noIo = new HashSet<int>();
        if (io is null) return (past, noIo);
        int Order(PortIoNeed p) => p.Port.Index is { } i && topology.GuestBuses.TryGetValue(i, out var g) ? g : int.MaxValue;
        if (io.BootFails || io.FirmwareLeavesBarsUnset)
        {
            int used = 0;
            foreach (var p in io.Ports.Where(p => p.Windows > 0 && p.Port.Index is not null).OrderBy(Order))
                if ((used += p.Windows) > io.Firmware.BridgeWindows) past.Add(p.Port.Index!.Value);
        }
        var hotplug = io.Ports.Where(p => p.Hotplug && p.Port.Index is not null).OrderBy(Order).ToList();
        foreach (var p in hotplug.Skip(Math.Max(0, hotplug.Count - io.PortsWithoutIoInGuest))) noIo.Add(p.Port.Index!.Value);
        return (past, noIo);
    }

    /// <summary>One line on the I/O budget, for the text tree and the picture's title.</summary>
    public static string? IoSummary(IoSpaceAnalysis? io)
    {
        if (io is null) return null;
        var line = $"I/O windows {io.WindowsNeeded} of {io.Firmware.BridgeWindows} ({io.Firmware.Name})";
        if (io.BootFails || io.FirmwareLeavesBarsUnset) line += ": past the firmware's limit";
        if (io.PortsWithoutIoInGuest > 0) line += $"; a Linux guest gives {io.HotplugPorts} hot-plug ports {IoSpaceBudget.LinuxWindows} windows: hotplug of an I/O device fails in the last {io.PortsWithoutIoInGuest}";
        return line;
    }

    public static string ToDot(string name, DomainDefinition domain, Topology topology, IoSpaceAnalysis? io) =>
        new TopologyDot(topology, io).Render(name, domain);

    public static string ToJson(string name, DomainDefinition domain, Topology topology, IoSpaceAnalysis? io, (string Version, string From)? libvirt = null) =>
        new TopologyJson(topology, io).Render(name, domain, libvirt);
}
