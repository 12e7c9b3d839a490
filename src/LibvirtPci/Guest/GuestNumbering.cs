using LibvirtPci.Domain;

namespace LibvirtPci.Guest;

/// <summary>
/// The bus numbers the guest sees. Firmware (SeaBIOS and OVMF alike) numbers buses depth-first:
/// scanning bus 0 by slot and function, each bridge or port gets the next number and is
/// enumerated before the scan goes on. So a root port inserted at a low slot renumbers every
/// bus after it, and with them Linux's predictable NIC names (enp&lt;bus&gt;s&lt;slot&gt;).
/// Expander buses (pxb) take the busNr libvirt wrote.
/// </summary>
public static class GuestNumbering
{
    /// <summary>Controller index → guest bus number, for the PCI controllers reachable from bus 0.</summary>
    public static IReadOnlyDictionary<int, int> Buses(DomainDefinition domain)
    {
        var controllers = domain.Devices.Where(d => d.ControllerType == "pci" && d.Index is not null && d.Index > 0 && d.Address.IsPciPresent).ToList();
        var children = controllers.GroupBy(c => c.Address.Pci.Bus).ToDictionary(g => g.Key, g => g.OrderBy(c => c.Address.Pci).ToList());
        var result = new Dictionary<int, int> { [0] = 0 };
        int next = 1;
        void Walk(int index)
        {
            if (!children.TryGetValue(index, out var list)) return;
            foreach (var c in list)
            {
                int idx = c.Index!.Value;
                if (result.ContainsKey(idx)) continue;
                if (c.Element.Attr("model") is "pci-expander-bus" or "pcie-expander-bus"
                    && c.Target?.Attr("busNr") is { } nr && PciAddress.ParseNumber(nr) is { } busNr)
                {
                    result[idx] = (int)busNr;
                    continue; // enumerated from its own root, after bus 0's tree
                }
                result[idx] = next++;
                Walk(idx);
            }
        }
        Walk(0);
        // Expander buses are roots of their own: their children number from busNr + 1.
        foreach (var pxb in controllers.Where(c => c.Element.Attr("model") is "pci-expander-bus" or "pcie-expander-bus" && result.ContainsKey(c.Index!.Value)))
        {
            next = result[pxb.Index!.Value] + 1;
            Walk(pxb.Index!.Value);
        }
        return result;
    }

    /// <summary>The guest's view of a device address, if its bus is reachable.</summary>
    public static PciAddress? GuestAddress(IReadOnlyDictionary<int, int> buses, PciAddress address) =>
        buses.TryGetValue(address.Bus, out var b) ? address with { Bus = b } : null;
}
