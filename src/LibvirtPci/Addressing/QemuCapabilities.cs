namespace LibvirtPci.Addressing;

/// <summary>The QEMU capabilities that change a PCI addressing decision in libvirt.</summary>
public enum QemuCap
{
    Piix3UsbUhci,
    QemuXhci,
    NecUsbXhci,
    Ich9UsbEhci1,
    PcieRootPort,
    PciePciBridge,
    VirtioPciTransitional,
    ScsiLsi,
    VirtioScsi,
    CirrusVga,
    Vga,
    Rtl8139,
    E1000,
    /// <summary>QEMU_CAPS_DEVICE_VIDEO_PRIMARY: -device is safe for the primary video (every QEMU since 1.6); libvirt before 9.0 asked.</summary>
    VideoPrimary,
    /// <summary>QEMU_CAPS_VIRTIO_PCI_DISABLE_LEGACY (QEMU 2.7): what libvirt before 9.0 asked to put virtio on PCIe.</summary>
    VirtioPciDisableLegacy,
    VirtioNet, // keep last: Latest is every value up to here
}

/// <summary>
/// A QEMU capability set. <see cref="Latest"/> is a modern QEMU (what the daemon probes from
/// Debian's QEMU 7.2 and libvirt's "latest" test caps, QEMU 8.0): every capability above.
/// Smaller sets exist to reproduce libvirt's tests with hand-picked capabilities.
/// </summary>
public sealed class QemuCapabilities
{
    // One bit per capability (no enum reflection at startup, a test is a mask).
    private readonly ulong _caps;

    public QemuCapabilities(IEnumerable<QemuCap> caps)
    {
        foreach (var c in caps) _caps |= 1UL << (int)c;
    }

    private QemuCapabilities(ulong caps) => _caps = caps;

    public static QemuCapabilities Latest { get; } = new((2UL << (int)QemuCap.VirtioNet) - 1);

    public bool Has(QemuCap cap) => (_caps & (1UL << (int)cap)) != 0;

    /// <summary>This set less another (libvirt's tests take capabilities away with ARG_QEMU_CAPS_DEL).</summary>
    public QemuCapabilities Without(QemuCapabilities other) => new(_caps & ~other._caps);

    /// <summary>
    /// The set a given QEMU release has. Every capability above exists since QEMU 4.0 (the last to
    /// arrive, virtio-*-pci-transitional, came in 4.0; qemu-xhci and pcie-pci-bridge in 2.12), so
    /// from 4.0 on it is <see cref="Latest"/>; older releases are not modelled.
    /// </summary>
    public static QemuCapabilities ForQemuVersion(Version version) =>
        version >= new Version(4, 0) ? Latest : throw new NotSupportedException($"QEMU {version} predates the capabilities modelled here (4.0 and later)");

    /// <summary>Maps libvirt's QEMU_CAPS_* names (as in its tests); unknown names do not matter here.</summary>
    public static QemuCapabilities FromLibvirtNames(IEnumerable<string> names)
    {
        var caps = new List<QemuCap>();
        foreach (var n in names)
        {
            QemuCap? c = n.Trim() switch
            {
                "QEMU_CAPS_PIIX3_USB_UHCI" => QemuCap.Piix3UsbUhci,
                "QEMU_CAPS_DEVICE_QEMU_XHCI" => QemuCap.QemuXhci,
                "QEMU_CAPS_NEC_USB_XHCI" => QemuCap.NecUsbXhci,
                "QEMU_CAPS_ICH9_USB_EHCI1" => QemuCap.Ich9UsbEhci1,
                "QEMU_CAPS_DEVICE_PCIE_ROOT_PORT" => QemuCap.PcieRootPort,
                "QEMU_CAPS_DEVICE_PCIE_PCI_BRIDGE" => QemuCap.PciePciBridge,
                "QEMU_CAPS_VIRTIO_PCI_TRANSITIONAL" => QemuCap.VirtioPciTransitional,
                "QEMU_CAPS_SCSI_LSI" => QemuCap.ScsiLsi,
                "QEMU_CAPS_VIRTIO_SCSI" => QemuCap.VirtioScsi,
                "QEMU_CAPS_DEVICE_CIRRUS_VGA" => QemuCap.CirrusVga,
                "QEMU_CAPS_DEVICE_VGA" => QemuCap.Vga,
                "QEMU_CAPS_DEVICE_RTL8139" => QemuCap.Rtl8139,
                "QEMU_CAPS_DEVICE_E1000" => QemuCap.E1000,
                "QEMU_CAPS_DEVICE_VIRTIO_NET" => QemuCap.VirtioNet,
                "QEMU_CAPS_DEVICE_VIDEO_PRIMARY" => QemuCap.VideoPrimary,
                "QEMU_CAPS_VIRTIO_PCI_DISABLE_LEGACY" => QemuCap.VirtioPciDisableLegacy,
                _ => null,
            };
            if (c is { } cap) caps.Add(cap);
        }
        return new QemuCapabilities(caps);
    }
}
