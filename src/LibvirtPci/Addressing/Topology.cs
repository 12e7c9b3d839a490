using System.Text;
using LibvirtPci.Domain;
using LibvirtPci.Guest;

namespace LibvirtPci.Addressing;

/// <summary>One PCI bus as the XML describes it: the controller that provides it and what sits in its slots.</summary>
public sealed class TopologyBus
{
    public required int Index { get; init; }
    public required PciControllerModel? Model { get; init; }
    public Device? Controller { get; init; }
    public List<Device> Devices { get; } = new();
    public List<TopologyBus> Children { get; } = new();
    /// <summary>Single-slot ports with nothing plugged in: where a device can be hotplugged.</summary>
    public bool IsEmptyHotplugPort => Devices.Count == 0 && Model is PciControllerModel.PcieRootPort or PciControllerModel.PcieSwitchDownstreamPort
        && Controller?.HotplugOff != true;
    /// <summary>The removed device (ledger key) whose released address is behind this port: not free, held for its return.</summary>
    public string? HeldFor { get; set; }
}

/// <summary>The PCI tree of a domain as read (no assignment): root bus, controllers, devices by slot.</summary>
public sealed class Topology
{
    public required TopologyBus Root { get; init; }
    public required IReadOnlyList<Device> Unaddressed { get; init; }
    public required IReadOnlyList<Device> Orphans { get; init; }
    /// <summary>What the guest sees: bus numbers, locations, NIC names (one engine for every view).</summary>
    public required GuestView Guest { get; init; }

    /// <summary>Controller index → the bus number the guest's firmware gives it.</summary>
    public IReadOnlyDictionary<int, int> GuestBuses => Guest.Buses;

    /// <param name="released">released addresses of the domain's address ledger, with the keys that released them</param>
    public static Topology Build(DomainDefinition domain, IEnumerable<(PciAddress Address, string Key)>? released = null)
    {
        var buses = new Dictionary<int, TopologyBus>();
        foreach (var c in domain.Devices.Where(d => d.ControllerType == "pci" && d.Index is not null))
            buses.TryAdd(c.Index!.Value, new TopologyBus { Index = c.Index.Value, Model = PciControllerModels.Parse(c.Element.Attr("model")), Controller = c });
        if (!buses.ContainsKey(0))
            buses[0] = new TopologyBus { Index = 0, Model = domain.Family == MachineFamily.Q35 ? PciControllerModel.PcieRoot : PciControllerModel.PciRoot };
        var orphans = new List<Device>();
        var unaddressed = new List<Device>();
        foreach (var d in domain.Devices)
        {
            if (d.Kind == "console") continue;
            if (!d.Address.IsPciPresent)
            {
                if (d.Address.IsPci) unaddressed.Add(d);
                continue;
            }
            if (buses.TryGetValue(d.Address.Pci.Bus, out var bus))
            {
                bus.Devices.Add(d);
                if (d.ControllerType == "pci" && d.Index is { } idx && buses.TryGetValue(idx, out var child) && idx != bus.Index)
                    bus.Children.Add(child);
            }
            else orphans.Add(d);
        }
        foreach (var b in buses.Values) b.Devices.Sort((x, y) => x.Address.Pci.CompareTo(y.Address.Pci));
        foreach (var (address, key) in released ?? [])
            if (buses.TryGetValue(address.Bus, out var port) && port.IsEmptyHotplugPort) port.HeldFor ??= key;
        return new Topology { Root = buses[0], Unaddressed = unaddressed, Orphans = orphans, Guest = GuestView.Of(domain) };
    }

    /// <summary>A text tree: each bus, then its devices by slot.function, controllers with their own bus nested.</summary>
    public string Render()
    {
        var sb = new StringBuilder();
        sb.Append(Describe(Root)).Append('\n');
        RenderBus(sb, Root, "", Guest);
        if (Unaddressed.Count > 0)
            sb.Append("without a PCI address yet (run libvirt-pci assign): ").Append(string.Join(", ", Unaddressed.Select(d => d.Key))).Append('\n');
        if (Orphans.Count > 0)
            sb.Append("on a bus with no controller: ").Append(string.Join(", ", Orphans.Select(d => $"{d.Key} at {d.Address.Pci}"))).Append('\n');
        return sb.ToString();
    }

    private static string Describe(TopologyBus bus) =>
        $"{bus.Model?.XmlName() ?? "pci"} (bus {bus.Index:x2})";

    private static void RenderBus(StringBuilder sb, TopologyBus bus, string indent, GuestView guest)
    {
        for (int i = 0; i < bus.Devices.Count; i++)
        {
            var d = bus.Devices[i];
            bool last = i == bus.Devices.Count - 1;
            sb.Append(indent).Append(last ? "└─ " : "├─ ").Append($"{d.Address.Pci.Bus:x2}:{d.Address.Pci.Slot:x2}.{d.Address.Pci.Function:x} ");
            var child = d.ControllerType == "pci" ? bus.Children.FirstOrDefault(c => c.Controller == d) : null;
            if (child is not null)
            {
                sb.Append(child.Model?.XmlName() ?? d.Element.Attr("model") ?? "pci").Append($" index={child.Index}");
                if (d.Target is { } t)
                    foreach (var a in new[] { "chassis", "port", "chassisNr", "busNr" })
                        if (t.Attr(a) is { } v) sb.Append($" {a}={v}");
                if (guest.Buses.TryGetValue(child.Index, out var gb)) sb.Append($"  guest bus {gb:x2}");
                if (child.HeldFor is { } key) sb.Append($"  (empty: held for {key}, released; it gets this address back when it returns)");
                else if (child.IsEmptyHotplugPort) sb.Append("  (empty: free for hotplug)");
                sb.Append('\n');
                RenderBus(sb, child, indent + (last ? "   " : "│  "), guest);
            }
            else
            {
                sb.Append(d.Key);
                var model = d.Model;
                if (model is not null && !d.Key.Contains(model, StringComparison.Ordinal)) sb.Append($" ({model})");
                if (d.Address.Multifunction == true) sb.Append(" multifunction");
                if (guest[d.Key] is { } g)
                {
                    sb.Append($"  guest {g.Location.Bus:x2}:{g.Location.Slot:x2}.{g.Location.Function:x}");
                    if (g.Nic is { } nic) sb.Append(' ').Append(nic.Name);
                }
                sb.Append('\n');
            }
        }
    }
}
