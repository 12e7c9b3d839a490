using System.Text;
using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Limits;
using static LibvirtPci.Rendering.TopologyFormats;

namespace LibvirtPci.Rendering;

/// <summary>The topology as Graphviz DOT: a cluster per bus, an edge from each port or bridge to what sits behind it.</summary>
internal sealed class TopologyDot(Topology topology, IoSpaceAnalysis? io)
{
    private readonly StringBuilder _sb = new();
    private readonly Dictionary<int, PortIoNeed> _need = PortNeeds(io);
    private readonly (HashSet<int> PastFirmware, HashSet<int> NoIoInGuest) _marked = MarkedPorts(io, topology);

    private const string Legend = "green: NIC (guest address, Linux name)\nyellow: port taking an I/O window\nred: past the firmware's I/O limit\n"
        + "orange: hot-plug port a Linux guest gives no I/O window\nblue: port with io-reserve=0\ndashed: empty hotplug port";

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";

    public string Render(string name, DomainDefinition domain)
    {
        var title = $"{name}: {domain.Machine ?? "?"}";
        if (IoSummary(io) is { } summary) title += "; " + summary;
        _sb.Append("digraph ").Append(Quote(name)).Append(" {\n");
        _sb.Append("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=").Append(Quote(title)).Append("];\n");
        _sb.Append("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, fillcolor=\"#ffffff\"];\n");
        _sb.Append("  edge [color=\"#666666\", arrowsize=0.6];\n");
        Bus(topology.Root, "  ");
        Edges(topology.Root);
        if (topology.Unaddressed.Count > 0)
            _sb.Append("  unaddressed [label=").Append(Quote("without a PCI address yet:\n" + string.Join("\n", topology.Unaddressed.Select(d => d.Key)))).Append(", style=\"rounded,dashed\"];\n");
        _sb.Append("  legend [shape=note, fillcolor=\"#fafafa\", label=").Append(Quote(Legend)).Append("];\n");
        _sb.Append("}\n");
        return _sb.ToString();
    }

    private void Bus(TopologyBus bus, string indent)
    {
        var guest = topology.GuestBuses.TryGetValue(bus.Index, out var g) ? $" → guest bus {Hex2(g)}" : "";
        _sb.Append(indent).Append("subgraph ").Append(Quote("cluster_bus" + bus.Index)).Append(" {\n");
        _sb.Append(indent).Append("  label=").Append(Quote($"{bus.Model?.XmlName() ?? "pci"} (bus {Hex2(bus.Index)}{guest})")).Append("; style=rounded; color=\"#999999\";\n");
        if (bus.Devices.Count == 0)
            _sb.Append(indent).Append("  ").Append(Quote("empty" + bus.Index)).Append(" [label=").Append(Quote(bus.HeldFor is { } k ? $"held for {k}\n(released)" : "free for hotplug"))
               .Append(", style=\"rounded,dashed\", fontcolor=\"#666666\"];\n");
        foreach (var d in bus.Devices)
        {
            var child = d.ControllerType == "pci" ? bus.Children.FirstOrDefault(c => c.Controller == d) : null;
            var (label, fill) = child is not null ? PortLabel(d, child) : DeviceLabel(d);
            _sb.Append(indent).Append("  ").Append(Quote("dev" + Bdf(d.Address.Pci))).Append(" [label=").Append(Quote(label)).Append(", fillcolor=").Append(Quote(fill)).Append("];\n");
        }
        foreach (var child in bus.Children) Bus(child, indent + "  ");
        _sb.Append(indent).Append("}\n");
    }

    /// <summary>A port or bridge: its model, chassis and port, and its I/O window against the firmware's budget and the guest's.</summary>
    private (string Label, string Fill) PortLabel(Device d, TopologyBus child)
    {
        var label = new StringBuilder(Bdf(d.Address.Pci)).Append('\n');
        label.Append(child.Model?.XmlName() ?? d.Element.Attr("model") ?? "pci").Append(" index=").Append(child.Index);
        if (d.Target?.Attr("chassis") is { } ch) label.Append($"\nchassis {ch} port {d.Target.Attr("port") ?? "?"}");
        if (!_need.TryGetValue(child.Index, out var p)) return (label.ToString(), "#ffffff");
        bool past = _marked.PastFirmware.Contains(child.Index), noIo = _marked.NoIoInGuest.Contains(child.Index);
        label.Append(p.IoReserveOff ? "\nno I/O window (io-reserve=0)" : p.Windows > 0 ? $"\nI/O window: {p.Windows} × 4 KiB" : "");
        if (past) label.Append("\npast the firmware's limit");
        else if (noIo) label.Append("\nLinux: no I/O window (hotplug of an I/O device fails)");
        var fill = p.IoReserveOff ? "#dde8f5" : past ? "#f4a6a6" : noIo ? "#f9c98a" : p.Windows == 0 ? "#ffffff" : "#fdeaa8";
        return (label.ToString(), fill);
    }

    /// <summary>An endpoint: its key and model, where the guest sees it, and a NIC's Linux name.</summary>
    private (string Label, string Fill) DeviceLabel(Device d)
    {
        var label = new StringBuilder(Bdf(d.Address.Pci)).Append('\n').Append(d.Key);
        if (d.Model is { } m && !d.Key.Contains(m, StringComparison.Ordinal)) label.Append($" ({m})");
        if (topology.Guest[d.Key] is { } ga)
        {
            label.Append("\nguest ").Append(Bdf(ga.Location));
            if (ga.Nic is { } nic) label.Append(' ').Append(nic.Name);
        }
        return (label.ToString(), d.Kind == "interface" ? "#e3f2e1" : "#ffffff");
    }

    private void Edges(TopologyBus bus)
    {
        foreach (var child in bus.Children)
        {
            var from = Quote("dev" + Bdf(child.Controller!.Address.Pci));
            if (child.Devices.Count == 0) _sb.Append("  ").Append(from).Append(" -> ").Append(Quote("empty" + child.Index)).Append(" [style=dashed];\n");
            foreach (var d in child.Devices) _sb.Append("  ").Append(from).Append(" -> ").Append(Quote("dev" + Bdf(d.Address.Pci))).Append(";\n");
            Edges(child);
        }
    }
}
