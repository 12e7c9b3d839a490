using LibvirtPci.Domain;

namespace LibvirtPci.Guest;

/// <summary>
/// What the guest sees of a domain: one engine for `tree` (text, DOT, JSON), `convert`'s view and
/// `diff`, so they cannot disagree. Every rule below was read from the guest (tools/
/// libvirt-boot-probe.sh: sysfs, and the host's udevadm run inside the guest) under SeaBIOS and
/// OVMF; tests/…/Guest/GuestGroundTruthTests boots generated domains and compares.
///
/// Bus numbers: GuestNumbering (SeaBIOS and OVMF number alike). NIC names (udev net_id):
/// <list type="bullet">
/// <item>onboard enoN: &lt;acpi index='N'/&gt; reaches the guest through ACPI (_DSM), so only with the
/// &lt;acpi/&gt; feature; N ≤ 16383.</item>
/// <item>slot ensN: the hotplug slot the kernel registered at the NIC's own bus:slot, when its
/// name is a number above 0. Slot names are global: the first registration takes "N", later
/// ones "N-2", "N-3" (not numbers, so udev skips them); udev then looks at the bridges above,
/// but a bridge's slot names the NIC only when the NIC is multifunction.</item>
/// <item>path enpXsY[fZ]: always (f when the function is not 0 or the device is multifunction).</item>
/// </list>
/// Which slots exist (measured, QEMU 7.2/5.2/10.0, Linux 6.1): i440fx with ACPI: bus 0's slots 1–31
/// by ACPI hotplug, named by slot, except slot 1 (PIIX3) and slots holding a bridge or video
/// (QEMU describes no hotplug slot for devices that cannot be unplugged); behind a pci-bridge,
/// every slot, named by slot (registered after bus 0's, so slots taken on bus 0 become "N-2").
/// Without ACPI, a pci-bridge's SHPC slots 1–31. q35: pcie-root has none; a root port's slot is
/// number 0 ("0", "0-2", …: never a name); a pcie-to-pci-bridge's slots 0–31 only with ACPI.
/// </summary>
public sealed class GuestView
{
    /// <summary>The udev this model follows: its naming scheme and where the rules were read.</summary>
    public const string UdevScheme = "systemd-udev net_id, naming scheme v252 (read in the guest from the host's udevadm 252)";

    private const int OnboardIndexMax = (1 << 14) - 1;

    public required IReadOnlyDictionary<string, GuestDevice> Devices { get; init; }

    /// <summary>Controller index → guest bus number.</summary>
    public required IReadOnlyDictionary<int, int> Buses { get; init; }

    public bool Acpi { get; init; }

    public GuestDevice? this[string key] => Devices.GetValueOrDefault(key);

    public static GuestView Of(DomainDefinition domain)
    {
        var buses = GuestNumbering.Buses(domain);
        bool acpi = domain.Root.Element("features")?.Element("acpi") is not null;
        var slots = HotplugSlotNames(domain, buses, acpi);
        var bridgeAbove = BridgeAbove(domain, buses);
        var devices = new Dictionary<string, GuestDevice>(StringComparer.Ordinal);
        foreach (var d in domain.Devices)
        {
            if (!d.Address.IsPciPresent || GuestNumbering.GuestAddress(buses, d.Address.Pci) is not { } at) continue;
            var nic = d.Kind == "interface" ? NicNames(d, at, acpi, slots, bridgeAbove) : null;
            var byPath = d.Kind == "disk" && d.Element.Element("target")?.Attr("bus") == "virtio" ? "pci-" + at : null;
            devices.TryAdd(d.Key, new GuestDevice(d.Key, d.Kind, d.Model, d.Address.Pci, at, nic, byPath));
        }
        return new GuestView { Devices = devices, Buses = buses, Acpi = acpi };
    }

    /// <summary>udev's names for a NIC at guest address <paramref name="at"/>.</summary>
    private static LinuxNicNames NicNames(Device nic, PciAddress at, bool acpi, IReadOnlyDictionary<(int Bus, int Slot), string> slots,
        IReadOnlyDictionary<int, PciAddress> bridgeAbove)
    {
        bool multifunction = at.Function > 0 || nic.Address.Multifunction == true;
        string function = multifunction ? $"f{at.Function}" : "";
        string? onboard = acpi && nic.Element.Element("acpi")?.Attr("index") is { } text && int.TryParse(text, out var index) && index is > 0 and <= OnboardIndexMax
            ? $"eno{index}" : null;
        string? slot = null;
        // udev's pci_get_hotplug_slot: the NIC's own slot, then the bridges above it
        for (var (bus, dev, own) = (at.Bus, at.Slot, true); ; own = false)
        {
            if (slots.TryGetValue((bus, dev), out var name) && int.TryParse(name, out var n) && n > 0)
            {
                if (own || multifunction) slot = $"ens{n}{function}";
                break;
            }
            if (!bridgeAbove.TryGetValue(bus, out var bridge)) break;
            (bus, dev) = (bridge.Bus, bridge.Slot);
        }
        return new LinuxNicNames(onboard, slot, $"enp{at.Bus}s{at.Slot}{function}");
    }

    /// <summary>Guest bus → the guest address of the bridge or port that creates it.</summary>
    private static Dictionary<int, PciAddress> BridgeAbove(DomainDefinition domain, IReadOnlyDictionary<int, int> buses)
    {
        var result = new Dictionary<int, PciAddress>();
        foreach (var c in PciControllers(domain))
            if (buses.TryGetValue(c.Index!.Value, out var bus) && GuestNumbering.GuestAddress(buses, c.Address.Pci) is { } at)
                result[bus] = at;
        return result;
    }

    private static IEnumerable<Device> PciControllers(DomainDefinition domain) =>
        domain.Devices.Where(d => d.ControllerType == "pci" && d.Index is > 0 && d.Address.IsPciPresent);

    /// <summary>
    /// The names of the hotplug slots the guest kernel registers, keyed by guest bus and slot, in
    /// the kernel's order (bus 0 first, then each bridge's bus in bus order), a taken name
    /// becoming "N-2", "N-3", … as Linux's pci_create_slot makes it.
    /// </summary>
    private static Dictionary<(int Bus, int Slot), string> HotplugSlotNames(DomainDefinition domain, IReadOnlyDictionary<int, int> buses, bool acpi)
    {
        var registered = new List<(int Bus, int Slot, int Number)>();
        if (domain.Family == MachineFamily.I440fx && acpi)
        {
            var fixedSlots = domain.Devices
                .Where(d => d.Address.IsPciPresent && d.Address.Pci.Bus == 0 && (d.Kind == "video" || IsBridge(d)))
                .Select(d => d.Address.Pci.Slot).Append(0).Append(1).ToHashSet();
            for (int s = 1; s <= PciAddress.MaxSlot; s++)
                if (!fixedSlots.Contains(s)) registered.Add((0, s, s));
        }
        foreach (var bridge in PciControllers(domain).Where(IsBridge).OrderBy(c => buses.GetValueOrDefault(c.Index!.Value, int.MaxValue)))
        {
            if (!buses.TryGetValue(bridge.Index!.Value, out var bus)) continue;
            bool pcieToPci = bridge.Element.Attr("model") == "pcie-to-pci-bridge";
            if (acpi) for (int s = 0; s <= PciAddress.MaxSlot; s++) registered.Add((bus, s, s));
            else if (!pcieToPci) for (int s = 1; s <= PciAddress.MaxSlot; s++) registered.Add((bus, s, s)); // SHPC
        }
        var names = new Dictionary<(int, int), string>();
        var taken = new Dictionary<int, int>();
        foreach (var (bus, slot, number) in registered)
        {
            int seen = taken[number] = taken.GetValueOrDefault(number) + 1;
            names[(bus, slot)] = seen == 1 ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{number}-{seen}";
        }
        return names;
    }

    private static bool IsBridge(Device d) =>
        d.ControllerType == "pci" && d.Element.Attr("model") is "pci-bridge" or "pcie-to-pci-bridge";
}
