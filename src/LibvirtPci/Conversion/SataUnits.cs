using LibvirtPci.Addressing;
using LibvirtPci.Domain;

namespace LibvirtPci.Conversion;

/// <summary>
/// Where each IDE disk of a pc domain goes on q35's SATA: libvirt's virDomainDiskDefAssignAddress
/// gives a SATA disk without an address controller idx/6, unit idx%6 from its name (hda and sda are
/// both index 0), and virDomainDefCheckDuplicateDriveAddresses refuses two disks at one unit. So a
/// converted disk keeps the unit its name gives when no SATA disk (and no other IDE disk) has it;
/// the others then take the first free units (lowest controller first); names are kept either way.
/// </summary>
internal static class SataUnits
{
    private const int UnitsPerController = 6;

    public static IReadOnlyDictionary<Device, (int Controller, int Unit)> For(DomainDefinition pc)
    {
        var disks = pc.Devices.Where(d => d.Kind == "disk").ToList();
        bool IsBus(Device d, string bus) => d.Element.Element("target")?.Attr("bus") == bus;
        var taken = new HashSet<(int, int)>();
        foreach (var d in disks.Where(d => IsBus(d, "sata")))
            if (DriveUnit(d) is { } given) taken.Add(given);
            else if (DomainInventory.DiskNameIndex(d.TargetDev) is >= 0 and var idx) taken.Add(Unit(idx));
        var result = new Dictionary<Device, (int, int)>();
        var ide = disks.Where(d => IsBus(d, "ide")).ToList();
        // First every disk whose name's unit is free keeps it, then the others take the free ones.
        foreach (var d in ide)
            if (DomainInventory.DiskNameIndex(d.TargetDev) is >= 0 and var idx && taken.Add(Unit(idx)))
                result[d] = Unit(idx);
        int next = 0;
        foreach (var d in ide.Where(d => !result.ContainsKey(d)))
        {
            while (!taken.Add(Unit(next))) next++;
            result[d] = Unit(next);
        }
        return result;
    }

    /// <summary>Disk index → (controller, unit), as libvirt maps a SATA disk's name.</summary>
    private static (int, int) Unit(int index) => (index / UnitsPerController, index % UnitsPerController);

    private static (int, int)? DriveUnit(Device d)
    {
        if (d.Address.Type != "drive" || d.Address.Element is not { } a) return null;
        int F(string n) => (int)(PciAddress.ParseNumber(a.Attr(n) ?? "0") ?? 0);
        return (F("controller"), F("unit"));
    }
}
