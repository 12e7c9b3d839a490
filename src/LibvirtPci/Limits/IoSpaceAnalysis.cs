using LibvirtPci.Domain;

namespace LibvirtPci.Limits;

/// <summary>One pcie-root-port and what its subtree asks of the I/O space.</summary>
public sealed record PortIoNeed(Device Port, int Windows, IReadOnlyList<string> Reasons, bool Empty, bool Hotplug, bool IoReserveOff)
{
    public string Name => $"pcie-root-port index {Port.Index} at {Port.Address.Pci}";
}

/// <summary>What the firmware and the guest will make of a q35 topology's I/O space.</summary>
public sealed class IoSpaceAnalysis
{
    public required FirmwareProfile Firmware { get; init; }
    public required MachineProfile Machine { get; init; }
    public required IReadOnlyList<PortIoNeed> Ports { get; init; }
    /// <summary>D: 4 KiB windows the firmware must place for bridges.</summary>
    public required int WindowsNeeded { get; init; }
    /// <summary>E: empty hotplug root ports that still want a padding window (no io-reserve=0).</summary>
    public required int EmptyPaddedPorts { get; init; }
    /// <summary>Hotplug root ports that Linux tries to give an I/O window.</summary>
    public required int HotplugPorts { get; init; }
    /// <summary>I/O-BAR devices below root ports whose I/O is switched off by io-reserve=0.</summary>
    public required IReadOnlyList<string> DevicesLosingIo { get; init; }
    public required bool BootFails { get; init; }
    public required bool FirmwareLeavesBarsUnset { get; init; }
    /// <summary>Root ports a Linux guest leaves without an I/O window (Linux fits 14).</summary>
    public required int PortsWithoutIoInGuest { get; init; }
    public required IReadOnlyList<Finding> Findings { get; init; }
}
