using LibvirtPci.Domain;

namespace LibvirtPci.Limits;

/// <summary>
/// What a firmware can give PCI bridges of the 64 KiB x86 I/O space, as measured with real boots
/// (180 during development on QEMU 7.2; FirmwareGroundTruthTests re-boots the scenarios through
/// tools/qemu-boot-probe.sh with the QEMU and firmware of Debian 11, 12, 13 and 13-backports):
/// SeaBIOS maps 0x1000–0xFFFF (15 windows of 4 KiB), OVMF 0x6000–0xFFFF (10 windows); the
/// chipset's own I/O BARs (AHCI, SMBus on q35) always take part of one window.
/// <see cref="Release"/> is the build the host has, when known (<see cref="FirmwareReleases"/>).
/// </summary>
public sealed record FirmwareProfile(Firmware Firmware, string Name, int IoBase, int IoEnd)
{
    public const int WindowBytes = 4096;

    public static readonly FirmwareProfile SeaBios = new(Firmware.SeaBios, "SeaBIOS", 0x1000, 0x10000);
    public static readonly FirmwareProfile Ovmf = new(Firmware.Ovmf, "OVMF", 0x6000, 0x10000);

    public static FirmwareProfile For(Firmware firmware, FirmwareReleases releases) =>
        firmware == Firmware.Ovmf ? Ovmf with { Release = releases.Ovmf } : SeaBios;

    /// <summary>The firmware's upstream release ("2022.11" for edk2), or null when the host's is not known.</summary>
    public string? Release { get; init; }

    /// <summary>4 KiB windows in the firmware's I/O range.</summary>
    public int Windows => (IoEnd - IoBase) / WindowBytes;

    /// <summary>Windows left for bridges once the chipset's small I/O BARs took their share of one.</summary>
    public int BridgeWindows => Windows - 1;

    public string Range => $"0x{IoBase:X4}–0x{IoEnd - 1:X4}";

    /// <summary>What OVMF does when bridges want more I/O windows than it has: the one row per measured edk2 release.</summary>
    public static readonly IReadOnlyList<OvmfRelease> OvmfReleases =
    [
        new("2020.11", "Debian 11 (ovmf 2020.11-2+deb11u2, QEMU 5.2)", OvmfShortfall.LeavesExcessUnprogrammed),
        new("2022.11", "Debian 12 (ovmf 2022.11-6+deb12u2, QEMU 7.2)", OvmfShortfall.ProgramsNothing),
        new("2025.02", "Debian 13 and 13-backports (ovmf 2025.02-8+deb13u1, QEMU 10.0 and 11.1)", OvmfShortfall.LeavesExcessUnprogrammed),
    ];

    /// <summary>The measured behaviour of this OVMF build, or null when its release is unknown or was never booted.</summary>
    public OvmfShortfall? Shortfall => Release is { } r ? OvmfReleases.FirstOrDefault(o => o.Release == r)?.Shortfall : null;

    /// <summary>The measured releases that behave as <paramref name="shortfall"/>, for messages ("2020.11, 2025.02").</summary>
    public static string ReleasesThat(OvmfShortfall shortfall) =>
        string.Join(", ", OvmfReleases.Where(o => o.Shortfall == shortfall).Select(o => o.Release));
}

/// <summary>What OVMF does when its I/O space is short (measured with tools/qemu-boot-probe.sh).</summary>
public enum OvmfShortfall
{
    /// <summary>edk2 2022.11: PCI resource allocation fails as a whole: no BAR is programmed, not even the disk controller's, so the firmware cannot reach the boot disk.</summary>
    ProgramsNothing,
    /// <summary>edk2 2020.11 and 2025.02: the bridges that fit get their windows; devices past the 9th are left unprogrammed (no PXE or boot from them; Linux assigns them itself).</summary>
    LeavesExcessUnprogrammed,
}

/// <summary>One booted edk2 release; <see cref="MeasuredOn"/> is the evidence: which Debian release's packages were booted.</summary>
public sealed record OvmfRelease(string Release, string MeasuredOn, OvmfShortfall Shortfall);
