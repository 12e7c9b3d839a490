using System.Globalization;
using System.Text;
using System.Text.Json;
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
    private static string Hex2(int v) => v.ToString("x2", CultureInfo.InvariantCulture);
    private static string Bdf(PciAddress a) => $"{Hex2(a.Bus)}:{Hex2(a.Slot)}.{a.Function:x}";

    /// <summary>Each root port's I/O need, by the index of the bus it opens (a port without an index has no bus here).</summary>
    private static Dictionary<int, PortIoNeed> PortNeeds(IoSpaceAnalysis? io)
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

    private static string Dot(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";

    public static string ToDot(string name, DomainDefinition domain, Topology topology, IoSpaceAnalysis? io)
    {
        var need = PortNeeds(io);
        var (past, noIo) = MarkedPorts(io, topology);
        var sb = new StringBuilder();
        var title = $"{name}: {domain.Machine ?? "?"}";
        if (IoSummary(io) is { } summary) title += "; " + summary;
        sb.Append("digraph ").Append(Dot(name)).Append(" {\n");
        sb.Append("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=").Append(Dot(title)).Append("];\n");
        sb.Append("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, fillcolor=\"#ffffff\"];\n");
        sb.Append("  edge [color=\"#666666\", arrowsize=0.6];\n");
        void Bus(TopologyBus bus, string indent)
        {
            var guest = topology.GuestBuses.TryGetValue(bus.Index, out var g) ? $" → guest bus {Hex2(g)}" : "";
            sb.Append(indent).Append("subgraph ").Append(Dot("cluster_bus" + bus.Index)).Append(" {\n");
            sb.Append(indent).Append("  label=").Append(Dot($"{bus.Model?.XmlName() ?? "pci"} (bus {Hex2(bus.Index)}{guest})")).Append("; style=rounded; color=\"#999999\";\n");
            if (bus.Devices.Count == 0)
                sb.Append(indent).Append("  ").Append(Dot("empty" + bus.Index)).Append(" [label=").Append(Dot(bus.HeldFor is { } k ? $"held for {k}\n(released)" : "free for hotplug"))
                  .Append(", style=\"rounded,dashed\", fontcolor=\"#666666\"];\n");
            foreach (var d in bus.Devices)
            {
                var child = d.ControllerType == "pci" ? bus.Children.FirstOrDefault(c => c.Controller == d) : null;
                var label = new StringBuilder(Bdf(d.Address.Pci)).Append('\n');
                string fill = "#ffffff";
                if (child is not null)
                {
                    label.Append(child.Model?.XmlName() ?? d.Element.Attr("model") ?? "pci").Append(" index=").Append(child.Index);
                    if (d.Target?.Attr("chassis") is { } ch) label.Append($"\nchassis {ch} port {d.Target.Attr("port") ?? "?"}");
                    if (need.TryGetValue(child.Index, out var p))
                    {
                        label.Append(p.IoReserveOff ? "\nno I/O window (io-reserve=0)" : p.Windows > 0 ? $"\nI/O window: {p.Windows} × 4 KiB" : "");
                        if (past.Contains(child.Index)) label.Append("\npast the firmware's limit");
                        else if (noIo.Contains(child.Index)) label.Append("\nLinux: no I/O window (hotplug of an I/O device fails)");
                        fill = p.IoReserveOff ? "#dde8f5" : past.Contains(child.Index) ? "#f4a6a6" : noIo.Contains(child.Index) ? "#f9c98a" : p.Windows == 0 ? "#ffffff" : "#fdeaa8";
                    }
                }
                else
                {
                    label.Append(d.Key);
                    if (d.Model is { } m && !d.Key.Contains(m, StringComparison.Ordinal)) label.Append($" ({m})");
                    if (topology.Guest[d.Key] is { } ga)
                    {
                        label.Append("\nguest ").Append(Bdf(ga.Location));
                        if (ga.Nic is { } nic) label.Append(' ').Append(nic.Name);
                    }
                    if (d.Kind == "interface") fill = "#e3f2e1";
                }
                sb.Append(indent).Append("  ").Append(Dot("dev" + Bdf(d.Address.Pci))).Append(" [label=").Append(Dot(label.ToString())).Append(", fillcolor=").Append(Dot(fill)).Append("];\n");
            }
            foreach (var child in bus.Children) Bus(child, indent + "  ");
            sb.Append(indent).Append("}\n");
        }
        Bus(topology.Root, "  ");
        void Edges(TopologyBus bus)
        {
            foreach (var child in bus.Children)
            {
                var from = Dot("dev" + Bdf(child.Controller!.Address.Pci));
                if (child.Devices.Count == 0) sb.Append("  ").Append(from).Append(" -> ").Append(Dot("empty" + child.Index)).Append(" [style=dashed];\n");
                foreach (var d in child.Devices) sb.Append("  ").Append(from).Append(" -> ").Append(Dot("dev" + Bdf(d.Address.Pci))).Append(";\n");
                Edges(child);
            }
        }
        Edges(topology.Root);
        if (topology.Unaddressed.Count > 0)
            sb.Append("  unaddressed [label=").Append(Dot("without a PCI address yet:\n" + string.Join("\n", topology.Unaddressed.Select(d => d.Key)))).Append(", style=\"rounded,dashed\"];\n");
        sb.Append("  legend [shape=note, fillcolor=\"#fafafa\", label=").Append(Dot("green: NIC (guest address, Linux name)\nyellow: port taking an I/O window\nred: past the firmware's I/O limit\norange: hot-plug port a Linux guest gives no I/O window\nblue: port with io-reserve=0\ndashed: empty hotplug port")).Append("];\n");
        sb.Append("}\n");
        return sb.ToString();
    }

    public static string ToJson(string name, DomainDefinition domain, Topology topology, IoSpaceAnalysis? io, (string Version, string From)? libvirt = null)
    {
        var need = PortNeeds(io);
        var (past, noIo) = MarkedPorts(io, topology);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("file", name);
            w.WriteString("machine", domain.Machine);
            if (libvirt is var (v, from)) { w.WriteString("libvirt", v); w.WriteString("libvirtFrom", from); }
            void Bus(TopologyBus bus)
            {
                w.WriteStartObject();
                w.WriteNumber("index", bus.Index);
                w.WriteString("model", bus.Model?.XmlName() ?? "pci");
                if (topology.GuestBuses.TryGetValue(bus.Index, out var g)) w.WriteNumber("guestBus", g);
                if (bus.Controller is { } c) w.WriteString("controllerAddress", c.Address.Pci.ToString());
                if (bus.IsEmptyHotplugPort) w.WriteBoolean("emptyHotplugPort", true);
                if (bus.HeldFor is { } held) w.WriteString("heldFor", held);
                if (need.TryGetValue(bus.Index, out var p))
                {
                    w.WriteNumber("ioWindows", p.Windows);
                    if (p.IoReserveOff) w.WriteBoolean("ioReserveOff", true);
                    if (past.Contains(bus.Index)) w.WriteBoolean("pastFirmwareLimit", true);
                    if (noIo.Contains(bus.Index)) w.WriteBoolean("noIoWindowInGuest", true);
                }
                w.WriteStartArray("devices");
                foreach (var d in bus.Devices.Where(d => d.ControllerType != "pci" || !bus.Children.Any(ch => ch.Controller == d)))
                {
                    w.WriteStartObject();
                    w.WriteString("key", d.Key);
                    w.WriteString("element", d.Kind);
                    if (d.Model is { } m) w.WriteString("model", m);
                    w.WriteString("address", d.Address.Pci.ToString());
                    if (d.Address.Multifunction == true) w.WriteBoolean("multifunction", true);
                    if (topology.Guest[d.Key] is { } ga)
                    {
                        w.WriteString("guest", Bdf(ga.Location));
                        if (ga.Nic is { } nic) w.WriteString("linuxName", nic.Name);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("buses");
                foreach (var child in bus.Children) Bus(child);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WritePropertyName("root");
            Bus(topology.Root);
            w.WriteStartArray("unaddressed");
            foreach (var d in topology.Unaddressed) w.WriteStringValue(d.Key);
            w.WriteEndArray();
            w.WriteStartArray("orphans");
            foreach (var d in topology.Orphans) w.WriteStringValue(d.Key);
            w.WriteEndArray();
            if (io is not null)
            {
                w.WriteStartObject("io");
                w.WriteString("firmware", io.Firmware.Name);
                w.WriteNumber("windowsNeeded", io.WindowsNeeded);
                w.WriteNumber("windowsAvailable", io.Firmware.BridgeWindows);
                w.WriteBoolean("bootFails", io.BootFails);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
