using LibvirtPci.Domain;

namespace LibvirtPci.Guest;

/// <summary>How one device looks to the guest before and after (null: not there).</summary>
public sealed record GuestChange(string Key, GuestDevice? Before, GuestDevice? After, IReadOnlyList<string> Causes)
{
    public bool Added => Before is null;
    public bool Removed => After is null;

    /// <summary>The device stays, and the guest finds it at another location or under another name.</summary>
    public bool IdentityChanged => Before is not null && After is not null &&
        (Before.Location != After.Location || Before.Nic?.Name != After.Nic?.Name || Before.ByPath != After.ByPath);

    /// <summary>Windows keys a PCI device's Plug and Play instance to its location (bus, device,
    /// function, and the ports above it): a device found elsewhere is installed as new hardware
    /// (a NIC loses its settings; enough new hardware asks for re-activation).</summary>
    public bool WindowsNewInstance => Before is not null && After is not null && Before.Location != After.Location;
}

/// <summary>
/// What the guest will see change between two definitions of one domain: devices matched by
/// identity (the ledger's keys: a NIC by its MAC, a disk by its target, a controller by type and
/// index), compared by what the guest sees of them (GuestView), with the cause named when a bus
/// was renumbered by a bridge or port added or removed before it in the firmware's scan.
/// </summary>
public sealed class GuestDiff
{
    public required IReadOnlyList<GuestChange> Changes { get; init; }

    /// <summary>Devices that stay but that the guest sees elsewhere or by another name.</summary>
    public IEnumerable<GuestChange> IdentityChanges => Changes.Where(c => c.IdentityChanged);

    public bool HasIdentityChanges => Changes.Any(c => c.IdentityChanged);

    public static GuestDiff Compare(DomainDefinition before, DomainDefinition after) => Compare(GuestView.Of(before), GuestView.Of(after));

    public static GuestDiff Compare(GuestView before, GuestView after)
    {
        var busesAdded = BridgeKeys(after).Except(BridgeKeys(before)).ToList();
        var busesRemoved = BridgeKeys(before).Except(BridgeKeys(after)).ToList();
        var changes = new List<GuestChange>();
        foreach (var key in before.Devices.Keys.Union(after.Devices.Keys).Order(StringComparer.Ordinal))
        {
            var b = before[key];
            var a = after[key];
            var change = new GuestChange(key, b, a, []);
            if (b is not null && a is not null && !change.IdentityChanged) continue;
            changes.Add(change with { Causes = Causes(b, a, busesAdded, busesRemoved) });
        }
        // what stays first, then additions, then removals: what the reader must act on leads
        changes.Sort((x, y) => Rank(x).CompareTo(Rank(y)));
        return new GuestDiff { Changes = changes };
    }

    private static int Rank(GuestChange c) => c.IdentityChanged ? 0 : c.Added ? 1 : 2;

    private static IEnumerable<string> BridgeKeys(GuestView view) =>
        view.Devices.Values.Where(d => d.Kind == "controller" && ControllerKey.IsPci(d.Key, out _)).Select(d => d.Key);

    private static IReadOnlyList<string> Causes(GuestDevice? before, GuestDevice? after, List<string> busesAdded, List<string> busesRemoved)
    {
        if (before is null || after is null) return [];
        var causes = new List<string>();
        if (before.Libvirt != after.Libvirt)
            causes.Add($"its address in the XML moved: {before.Libvirt} → {after.Libvirt}");
        else if (before.Location.Bus != after.Location.Bus)
        {
            foreach (var k in busesAdded) causes.Add($"{k} added: the buses after it in the firmware's scan are numbered one higher");
            foreach (var k in busesRemoved) causes.Add($"{k} removed: the buses after it in the firmware's scan are numbered one lower");
        }
        if (before.Nic is { } n && after.Nic is { } m && n.Name != m.Name && before.Location == after.Location)
            causes.Add(n.Onboard != m.Onboard ? "its ACPI index changed" : "its hotplug slot name changed (another slot took the number first)");
        return causes;
    }
}
