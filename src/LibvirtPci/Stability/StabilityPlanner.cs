using LibvirtPci.Addressing;
using LibvirtPci.Domain;

namespace LibvirtPci.Stability;

/// <summary>
/// The allocation with the ledger's rules applied, and the ledger that results. <paramref name="Completed"/>:
/// ledger keys of devices libvirt completed (a NIC given a MAC) → their keys now; the ledger keeps the old ones.
/// </summary>
public sealed record StableAllocation(AllocationResult Result, AddressLedger Ledger, IReadOnlyList<Finding> Findings, IReadOnlyDictionary<string, string> Completed);

/// <summary>
/// Turns a ledger into an <see cref="AllocationPolicy"/> for libvirt's allocator and the
/// allocation back into a ledger. Rules: a remembered device gets its address back; a released
/// address goes to no other device while the topology can grow instead (when it cannot, it is
/// reused with a warning); new root ports only after existing ones. Pure.
/// </summary>
public static class StabilityPlanner
{
    public static StableAllocation Allocate(DomainDefinition domain, QemuCapabilities caps, AddressLedger storedLedger, int? sparePorts, LibvirtProfile profile)
    {
        // Keys as libvirt completes the domain (a controller without index is keyed by the index it
        // gets), so that a device's key in the input is its key in the output.
        var inventory = new DomainInventory(domain, caps, profile);
        var keyOf = new Dictionary<Device, string>();
        foreach (var d in inventory.IterationOrder())
            if (d.Source is not null) keyOf.TryAdd(d.Source, d.Key);
        string Key(Device d) => keyOf.GetValueOrDefault(d, d.Key);
        var present = domain.Devices.Select(Key).ToHashSet(StringComparer.Ordinal);
        var findings = new List<Finding>();
        // The XML is the truth for the devices it has; the ledger is memory. Other editors (virsh
        // attach-device --config, virt-manager, virt-xml) do not know the ledger and reuse
        // released slots: what they did is reconciled here, never refused.
        var holders = new Dictionary<PciAddress, string>();
        foreach (var d in domain.Devices)
            if (d.Address.IsPciPresent && d.Kind != "console") holders.TryAdd(d.Address.Pci, Key(d));
        // A device libvirt completed (a NIC that got its MAC) is planned under its key now and
        // written back under the key the ledger knows it by: a stored document stays as it is.
        var completed = storedLedger.CompletedKeys(holders, present);
        var ledger = storedLedger.Renamed(completed);
        var taken = TakenOutside(ledger, present, holders, findings);
        var (pins, displaced) = Pins(domain, ledger, present, holders, findings);
        var kept = ledger.Entries.Where(e => !present.Contains(e.Key) && !taken.ContainsKey(e.Key) && !Chipset.IsChipsetSlot(domain.Family, e.Address)).ToList();
        var policy = new AllocationPolicy
        {
            Pins = pins,
            Blocked = kept.Select(e => e.Address).ToHashSet(),
            RootPortFloor = RootPortFloor(domain, ledger, Key),
            SparePorts = sparePorts,
            Profile = profile,
        };
        // Released addresses are the allocator's last resort: a device gets one only when nothing
        // else is left (no free slot, no room to grow), and then the warning says whose it was.
        var result = LibvirtAllocator.Assign(inventory, policy);
        Report(result, ledger, pins, displaced, kept, findings);
        return new StableAllocation(result, Update(ledger, result, taken).Renamed(Inverse(completed)), findings, completed);
    }

    /// <summary>Released key → the device that now holds its address (another editor reused it): reconciled, said once (LP503).</summary>
    private static Dictionary<string, string> TakenOutside(AddressLedger ledger, HashSet<string> present, Dictionary<PciAddress, string> holders, List<Finding> findings)
    {
        var taken = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in ledger.Entries.Where(e => !present.Contains(e.Key))) // released now or before
            if (holders.TryGetValue(e.Address, out var holder) && ledger[holder]?.Address != e.Address)
            {
                taken[e.Key] = holder;
                if (e.TakenBy != holder)
                    findings.Add(new Finding("LP503", Severity.Warning,
                        $"{holder} now holds {e.Address}, which {e.Key} released (changed outside libvirt-pci, e.g. by virsh attach-device); the ledger records that {holder} took it"));
            }
        return taken;
    }

    /// <summary>
    /// The remembered address of each device, unless another device holds it now or its bus is gone;
    /// <c>displaced</c>: returning key → who holds its old address.
    /// </summary>
    private static (Dictionary<string, PciAddress> Pins, Dictionary<string, string> Displaced) Pins(
        DomainDefinition domain, AddressLedger ledger, HashSet<string> present, Dictionary<PciAddress, string> holders, List<Finding> findings)
    {
        var pciBuses = domain.Devices.Where(d => d.ControllerType == "pci" && d.Index is not null).Select(d => d.Index!.Value).ToHashSet();
        var pins = new Dictionary<string, PciAddress>(StringComparer.Ordinal);
        var displaced = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in ledger.Entries)
        {
            if (holders.TryGetValue(e.Address, out var holder) && holder != e.Key && present.Contains(e.Key))
                displaced[e.Key] = holder; // its old address is another device's now: it gets a new one
            else if (e.Address.Bus != 0 && !BusRemembered(pciBuses, ledger, e.Address.Bus) && present.Contains(e.Key))
                findings.Add(new Finding("LP505", Severity.Warning,
                    $"{e.Key} was at {e.Address}, but the controller of bus {e.Address.Bus} is gone (removed outside libvirt-pci); it gets a new address"));
            else pins[e.Key] = e.Address;
        }
        // Two returning devices remembered at one address (one of them lost it to a forced reuse or
        // to another editor, then both were removed): the one that held it last keeps it.
        foreach (var clash in pins.Where(p => present.Contains(p.Key)).GroupBy(p => p.Value).Where(g => g.Count() > 1).ToList())
        {
            var winner = clash.OrderBy(p => ledger[p.Key]!.Released).ThenBy(p => ledger[p.Key]!.TakenBy is null ? 0 : 1).ThenBy(p => p.Key, StringComparer.Ordinal).First().Key;
            foreach (var loser in clash.Where(p => p.Key != winner))
            {
                pins.Remove(loser.Key);
                displaced[loser.Key] = winner;
            }
        }
        return (pins, displaced);
    }

    /// <summary>What the allocation did to remembered addresses: reused (LP501), moved in the XML (LP502), displaced (LP504); --explain's skipped slots.</summary>
    private static void Report(AllocationResult result, AddressLedger ledger, Dictionary<string, PciAddress> pins, Dictionary<string, string> displaced, List<LedgerEntry> kept, List<Finding> findings)
    {
        var reused = result.ReusedReleased.ToHashSet();
        foreach (var d in result.Inventory.IterationOrder().Where(d => d.Origin == AddressOrigin.Assigned && d.IsPciPresent && reused.Contains(d.Pci)))
        {
            var previous = kept.First(x => x.Address.Bus == d.Pci.Bus && x.Address.Slot == d.Pci.Slot);
            findings.Add(new Finding("LP501", Severity.Warning,
                $"{d.Key} takes {d.Pci}, released by {previous.Key}: no never-used slot is left, so the guest will see a different device at that address"));
        }
        foreach (var d in result.Inventory.IterationOrder())
        {
            if (pins.TryGetValue(d.Key, out var pinned) && d.IsPciPresent && d.Pci != pinned && d.Origin == AddressOrigin.Kept)
                findings.Add(new Finding("LP502", Severity.Info, $"{d.Key} moved from {pinned} to {d.Pci} in the XML; the ledger follows the XML"));
            if (d.Origin == AddressOrigin.Assigned && d.IsPciPresent && !pins.ContainsKey(d.Key) && kept.Count > 0)
            {
                var at = d.Pci; // --explain: the released addresses first-fit passed over on the way
                d.ExplainFurther(() => kept.Where(e => e.Address.CompareTo(at) < 0 && !reused.Contains(e.Address)) is var passed && passed.Any()
                    ? $"; skipped {string.Join(", ", passed.Select(e => $"{e.Address} (released by {e.Key})"))}, kept for their devices' return" : "");
            }
            if (displaced.TryGetValue(d.Key, out var holder) && d.IsPciPresent && d.Origin == AddressOrigin.Assigned)
                findings.Add(new Finding("LP504", Severity.Warning,
                    $"{d.Key} comes back at {d.Pci}: its old address {ledger[d.Key]!.Address} is held by {holder} now, so the guest sees it at a new address"));
        }
    }

    /// <summary>Keys now → the ledger's keys: how planning's names are written back.</summary>
    public static Dictionary<string, string> Inverse(IReadOnlyDictionary<string, string> completed) =>
        completed.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    /// <summary>
    /// A bus a remembered address may use: bus 0, a PCI controller in the XML, or one the ledger
    /// remembers as present (the tool adds it again). A controller the ledger has as released was
    /// removed by someone: addresses behind it are void.
    /// </summary>
    private static bool BusRemembered(IReadOnlySet<int> pciBuses, AddressLedger ledger, int bus) =>
        pciBuses.Contains(bus) || ledger[ControllerKey.Pci(bus)] is { Released: false };

    /// <summary>The new ledger: every addressed device, and every earlier key that is gone as released (with who took its address, if anyone).</summary>
    public static AddressLedger Update(AddressLedger old, AllocationResult result, IReadOnlyDictionary<string, string>? taken = null)
    {
        var entries = new Dictionary<string, LedgerEntry>(StringComparer.Ordinal);
        foreach (var d in result.Inventory.IterationOrder())
            if (d.IsPciPresent && d.AddressType == "pci")
                entries.TryAdd(d.Key, new LedgerEntry(d.Key, d.Pci, false));
        foreach (var e in old.Entries)
            if (!entries.ContainsKey(e.Key))
                entries[e.Key] = e with { Released = true, TakenBy = taken?.GetValueOrDefault(e.Key) ?? e.TakenBy };
        return new AddressLedger(entries.Values).WithAcpiIndexes(old.AcpiIndexes); // ACPI indexes are never forgotten
    }

    /// <summary>
    /// The lowest bus-0 address a new root port may take: just after the highest existing bridge
    /// or port on bus 0. The firmware numbers buses depth-first in slot order, so a port put before
    /// an existing one renumbers every bus after it, and the guest renames its NICs (enp11s0 →
    /// enp12s0; found by the differential harness's guest-kept property). Applies from the first
    /// --stable run: starting a ledger must not move what the guest has either.
    /// </summary>
    private static PciAddress? RootPortFloor(DomainDefinition domain, AddressLedger ledger, Func<Device, string> key)
    {
        PciAddress? highest = null;
        void Consider(PciAddress a)
        {
            if (a.Bus == 0 && (highest is null || a.CompareTo(highest.Value) > 0)) highest = a;
        }
        foreach (var d in domain.Devices.Where(d => d.ControllerType == "pci" && d.Index is > 0
                     && d.Element.Attr("model") is not ("pci-expander-bus" or "pcie-expander-bus"))) // expander buses number from their own busNr
        {
            if (d.Address.IsPciPresent) Consider(d.Address.Pci);
            else if (ledger[key(d)] is { } e) Consider(e.Address);
        }
        foreach (var e in ledger.Entries.Where(e => e.Released && ControllerKey.IsPci(e.Key, out _)))
            Consider(e.Address);
        if (highest is not { } h) return null;
        return h.Function < 7 ? h with { Function = h.Function + 1 } : new PciAddress(0, h.Slot + 1, 0);
    }
}
