using LibvirtPci.Addressing;
using LibvirtPci.Domain;

namespace LibvirtPci.Stability;

/// <summary>The allocation with the ledger's rules applied, and the ledger that results.</summary>
public sealed record StableAllocation(AllocationResult Result, AddressLedger Ledger, IReadOnlyList<Finding> Findings);

/// <summary>
/// Turns a ledger into an <see cref="AllocationPolicy"/> for libvirt's allocator and the
/// allocation back into a ledger. Rules: a remembered device gets its address back; a released
/// address goes to no other device while the topology can grow instead (when it cannot, it is
/// reused with a warning); new root ports only after existing ones. Pure.
/// </summary>
public static class StabilityPlanner
{
    public static StableAllocation Allocate(DomainDefinition domain, QemuCapabilities caps, AddressLedger ledger, int? sparePorts)
    {
        var present = domain.Devices.Select(d => d.Key).ToHashSet(StringComparer.Ordinal);
        var pins = ledger.Entries.ToDictionary(e => e.Key, e => e.Address, StringComparer.Ordinal);
        var blocked = ledger.Entries.Where(e => !present.Contains(e.Key) && !DomainDefinition.IsChipsetSlot(domain.Family, e.Address))
            .Select(e => e.Address).ToHashSet();
        var policy = new AllocationPolicy
        {
            Pins = pins,
            Blocked = blocked,
            RootPortFloor = ledger.Count > 0 ? RootPortFloor(domain, ledger) : null,
            SparePorts = sparePorts,
        };
        var findings = new List<Finding>();
        AllocationResult result;
        try
        {
            result = LibvirtAllocator.Assign(domain, caps, policy);
        }
        catch (InputException e) when (blocked.Count > 0 && e.Code is "LP220" or "LP221" or "LP216")
        {
            // The topology cannot grow any more (no slot, no room for a bridge, or a bridge that
            // could only plug into itself): released addresses must be reused.
            result = LibvirtAllocator.Assign(domain, caps, policy with { Blocked = Array.Empty<PciAddress>() });
            foreach (var d in result.Inventory.IterationOrder().Where(d => d.Origin == AddressOrigin.Assigned && d.IsPciPresent && blocked.Contains(d.Pci) && !pins.ContainsKey(d.Key)))
            {
                var previous = ledger.Entries.First(x => x.Address == d.Pci && !present.Contains(x.Key));
                findings.Add(new Finding("LP501", Severity.Warning,
                    $"{d.Key} takes {d.Pci}, released by {previous.Key}: no never-used slot is left, so the guest will see a different device at that address"));
            }
        }
        foreach (var d in result.Inventory.IterationOrder().Where(d => pins.ContainsKey(d.Key) && d.IsPciPresent && d.Pci != pins[d.Key] && d.Origin == AddressOrigin.Kept))
            findings.Add(new Finding("LP502", Severity.Info, $"{d.Key} moved from {pins[d.Key]} to {d.Pci} in the XML; the ledger follows the XML"));
        return new StableAllocation(result, Update(ledger, result), findings);
    }

    /// <summary>The new ledger: every addressed device, and every earlier key that is gone as released.</summary>
    public static AddressLedger Update(AddressLedger old, AllocationResult result)
    {
        var entries = new Dictionary<string, LedgerEntry>(StringComparer.Ordinal);
        foreach (var d in result.Inventory.IterationOrder())
            if (d.IsPciPresent && d.AddressType == "pci")
                entries.TryAdd(d.Key, new LedgerEntry(d.Key, d.Pci, false));
        foreach (var e in old.Entries)
            if (!entries.ContainsKey(e.Key))
                entries[e.Key] = e with { Released = true };
        return new AddressLedger(entries.Values);
    }

    /// <summary>The lowest bus-0 address a new root port may take: just after the highest existing one.</summary>
    private static PciAddress? RootPortFloor(DomainDefinition domain, AddressLedger ledger)
    {
        PciAddress? highest = null;
        void Consider(PciAddress a)
        {
            if (a.Bus == 0 && (highest is null || a.CompareTo(highest.Value) > 0)) highest = a;
        }
        foreach (var d in domain.Devices.Where(d => d.ControllerType == "pci" && d.Element.Attr("model") == "pcie-root-port"))
        {
            if (d.Address.IsPciPresent) Consider(d.Address.Pci);
            else if (ledger[d.Key] is { } e) Consider(e.Address);
        }
        foreach (var e in ledger.Entries.Where(e => e.Released && e.Key.StartsWith("controller/pci/", StringComparison.Ordinal)))
            Consider(e.Address);
        if (highest is not { } h) return null;
        return h.Function < 7 ? h with { Function = h.Function + 1 } : new PciAddress(0, h.Slot + 1, 0);
    }
}
