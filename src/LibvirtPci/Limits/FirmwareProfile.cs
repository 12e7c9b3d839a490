using LibvirtPci.Domain;

namespace LibvirtPci.Limits;

/// <summary>
/// What a firmware can give PCI bridges of the 64 KiB x86 I/O space, as measured on QEMU 7.2
/// with real boots (180 during development; FirmwareGroundTruthTests re-boots 14 through
/// tools/qemu-boot-probe.sh): SeaBIOS maps 0x1000–0xFFFF (15 windows of 4 KiB),
/// OVMF 0x6000–0xFFFF (10 windows); the chipset's own I/O BARs (AHCI, SMBus on q35) always
/// take part of one window.
/// </summary>
public sealed record FirmwareProfile(Firmware Firmware, string Name, int IoBase, int IoEnd)
{
    public const int WindowBytes = 4096;

    public static readonly FirmwareProfile SeaBios = new(Firmware.SeaBios, "SeaBIOS", 0x1000, 0x10000);
    public static readonly FirmwareProfile Ovmf = new(Firmware.Ovmf, "OVMF", 0x6000, 0x10000);

    public static FirmwareProfile For(Firmware firmware) => firmware == Firmware.Ovmf ? Ovmf : SeaBios;

    /// <summary>4 KiB windows in the firmware's I/O range.</summary>
    public int Windows => (IoEnd - IoBase) / WindowBytes;

    /// <summary>Windows left for bridges once the chipset's small I/O BARs took their share of one.</summary>
    public int BridgeWindows => Windows - 1;

    public string Range => $"0x{IoBase:X4}–0x{IoEnd - 1:X4}";
}

/// <summary>The machine type as it matters for I/O reservation: q35 version (null for the bare alias = newest).</summary>
public sealed record MachineProfile(MachineFamily Family, Version? Version, string Name)
{
    public static MachineProfile Of(DomainDefinition domain)
    {
        var name = domain.Machine ?? (domain.Family == MachineFamily.Q35 ? "q35" : "pc");
        // "pc-q35-X.Y"; the bare alias "q35" means the host QEMU's newest version.
        Version? version = null;
        if (name.StartsWith("pc-q35-", StringComparison.Ordinal) && Version.TryParse(name["pc-q35-".Length..], out var v) && v.Build < 0)
            version = v;
        return new MachineProfile(domain.Family, version, name);
    }

    /// <summary>
    /// pc-q35-6.1 hid the ports' native hotplug capability: firmware then reserves an I/O window
    /// for every pcie-root-port, empty or not (measured: 15 empty ports hang SeaBIOS on 6.1 only).
    /// </summary>
    public bool EveryPortReservesIo => Version is { Major: 6, Minor: 1 };
}
