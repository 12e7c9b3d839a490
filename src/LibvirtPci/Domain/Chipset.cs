namespace LibvirtPci.Domain;

/// <summary>
/// The functions the machine's chipset occupies on bus 0, the one table the allocator
/// (libvirt's qemuDomainValidateDevicePCISlotsPIIX3 / ...Q35), lint and the model read.
/// Where a controller of the domain <em>is</em> that function (the primary IDE, USB or SATA
/// controller), it names the controller type that may, and must, sit there at index 0.
/// </summary>
public static class Chipset
{
    /// <param name="Controller">the controller type at index 0 that is this function (it must have this address), or null for a function no XML device may take</param>
    public sealed record Function(PciAddress Address, string Name, string? Controller = null);

    private static readonly Function[] Piix3 =
    [
        new(new PciAddress(0, 1, 0), "the PIIX3 ISA bridge"),
        new(new PciAddress(0, 1, 1), "the PIIX3 IDE controller (ide index 0)", "ide"),
        new(new PciAddress(0, 1, 2), "the PIIX3 USB controller (usb index 0)", "usb"),
        new(new PciAddress(0, 1, 3), "the PIIX4 power management function"),
    ];

    private static readonly Function[] Ich9 =
    [
        new(new PciAddress(0, 0x1f, 0), "the ICH9 LPC/ISA bridge"),
        new(new PciAddress(0, 0x1f, 2), "the ICH9 AHCI controller (sata index 0)", "sata"),
        new(new PciAddress(0, 0x1f, 3), "the ICH9 SMBus controller"),
    ];

    public static IReadOnlyList<Function> Functions(MachineFamily family) => family == MachineFamily.Q35 ? Ich9 : Piix3;

    /// <summary>00:01.x on pc (PIIX3) and 00:1f.x on q35 (ICH9 LPC): slots whose function 0 is the chipset, not an XML device.</summary>
    public static bool IsChipsetSlot(MachineFamily family, PciAddress a) => a.Bus == 0 && a.Slot == Functions(family)[0].Address.Slot;

    public static Function? At(MachineFamily family, PciAddress a)
    {
        foreach (var f in Functions(family))
            if (f.Address == a) return f;
        return null;
    }

    /// <summary>The function with this controller role (ide, usb, sata at index 0), if the chipset has one.</summary>
    public static Function? ForController(MachineFamily family, string controllerType)
    {
        foreach (var f in Functions(family))
            if (f.Controller == controllerType) return f;
        return null;
    }
}
