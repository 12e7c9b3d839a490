namespace LibvirtPci.Addressing;

/// <summary>A behaviour of libvirt's addressing that changed between the versions users run.</summary>
public enum LibvirtBehaviour
{
    /// <summary>A domain may have several watchdogs (q35's built-in iTCO became a device of its own); only an iTCO one is limited to one.</summary>
    MultipleWatchdogs,
    /// <summary>&lt;filesystem&gt; with driver type mtp is a usb-mtp device: no PCI address.</summary>
    MtpFilesystemOnUsb,
    /// <summary>&lt;sound model='virtio'&gt; is a virtio-sound-pci device.</summary>
    VirtioSound,
    /// <summary>&lt;interface&gt; with model usb-net takes a USB address, not PCI.</summary>
    UsbNetOnUsb,
    /// <summary>&lt;acpi index='N'/&gt; on a device is passed to QEMU (acpi-index).</summary>
    AcpiIndex,
    /// <summary>&lt;qemu:override&gt; sets a device's frontend properties; an older libvirt accepts the element and drops it.</summary>
    QemuOverride,
    /// <summary>libvirt no longer asks QEMU_CAPS_DEVICE_VIDEO_PRIMARY: without it, older libvirt kept the primary video slot (00:02 pc, 00:01 q35) free when the domain has no video.</summary>
    VideoPrimaryAssumed,
    /// <summary>Virtio devices count as PCIe when QEMU has virtio-*-pci-transitional; older libvirt asked for disable-legacy instead.</summary>
    VirtioPcieByTransitional,
    /// <summary>A controller libvirt adds itself (USB, virtio-serial, a PCI bus it needs) goes in index order among its type, not at the end, so PCI slots are handed out in index order.</summary>
    AddedControllersInIndexOrder,
    /// <summary>A SCSI controller without a model (one libvirt adds for a SCSI disk, say) takes the model of the domain's first SCSI controller that has one — virtio-scsi is a PCIe device on q35 — where it was always lsilogic (conventional PCI).</summary>
    ScsiModelFromFirstController,
    /// <summary>A pcie-to-pci-bridge that finds no free PCIe slot makes the dry run add a pcie-root-port for it; before, libvirt refused ("Cannot automatically add a new PCI bus for a device with connect flags 2000").</summary>
    RootPortForPcieToPciBridge,
}

/// <summary>
/// The libvirt whose choices to reproduce: every behaviour that differs between versions, each row
/// with the version it changed in and where that was read. The allocator, lint and refusals ask
/// the profile; no version comparison lives anywhere else.
/// </summary>
public sealed class LibvirtProfile
{
    public sealed record Row(LibvirtBehaviour Behaviour, Version Since, string Source);

    public static readonly IReadOnlyList<Row> Rows =
    [
        new(LibvirtBehaviour.AcpiIndex, new Version(7, 3), "docs/formatdomain.rst 'Since 7.3.0, one can set the ACPI index against network interfaces'; qemuBuildDeviceAddressProps (src/qemu/qemu_command.c, acpi-index)"),
        new(LibvirtBehaviour.QemuOverride, new Version(8, 2), "docs/drvqemu.rst 'Overriding properties of QEMU devices' (since 8.2.0), parsed by the qemu namespace parser (qemuDomainDefNamespaceParse, src/qemu/qemu_domain.c); libvirt 7.0 accepts <qemu:override> and stores nothing of it (measured on the Debian 11 daemon)"),
        new(LibvirtBehaviour.VideoPrimaryAssumed, new Version(9, 0), "qemuDomainValidateDevicePCISlotsPIIX3/Q35 (src/qemu/qemu_domain_address.c): 7.0 reserves the video slot when QEMU lacks QEMU_CAPS_DEVICE_VIDEO_PRIMARY, 9.0 has retired the capability (X_QEMU_CAPS_DEVICE_VIDEO_PRIMARY in qemu_capabilities.h); the release between them not located, so 7.1-8.10 keep 7.0's rule. Only hand-picked test capability sets lack it: every QEMU a 7.0 host runs has it"),
        new(LibvirtBehaviour.VirtioPcieByTransitional, new Version(9, 0), "qemuDomainFillDevicePCIConnectFlagsIterInit (src/qemu/qemu_domain_address.c): 7.0 tests QEMU_CAPS_VIRTIO_PCI_DISABLE_LEGACY, 9.0 QEMU_CAPS_VIRTIO_PCI_TRANSITIONAL (the old one retired); the release between not located, so 7.1-8.10 keep 7.0's. Every QEMU a Debian 11 host runs has both"),
        new(LibvirtBehaviour.MultipleWatchdogs, new Version(9, 1), "NEWS.rst 9.1.0 'iTCO watchdog made operational' (watchdogs became a list), 9.3.0 'Improve validation of watchdog devices' (iTCO only once)"),
        new(LibvirtBehaviour.MtpFilesystemOnUsb, new Version(10, 2), "NEWS.rst 10.2.0 'Support for driver type mtp in <filesystem/> devices'"),
        new(LibvirtBehaviour.VirtioSound, new Version(10, 4), "NEWS.rst 10.4.0 'Support for virtio sound model'"),
        new(LibvirtBehaviour.UsbNetOnUsb, new Version(10, 4), "NEWS.rst 10.4.0 usb-net; qemuDomainDeviceCalculatePCIConnectFlags (src/qemu/qemu_domain_address.c)"),
        new(LibvirtBehaviour.AddedControllersInIndexOrder, new Version(11, 3), "virDomainDefAddController (src/conf/domain_conf.c): 9.0 appends (VIR_APPEND_ELEMENT_COPY), 11.3 calls virDomainControllerInsert; not in NEWS, and the release between them not located, so 9.1-11.2 keep 9.0's order (corpus case pci-autoadd-idx)"),
        new(LibvirtBehaviour.RootPortForPcieToPciBridge, new Version(12, 9), "virDomainPCIAddressSetGrow (src/conf/domain_addr.c); measured: a q35 domain with pcie-root and a <controller model='pcie-to-pci-bridge'/> and nothing else: 9.0 and 11.3 refuse it ('Cannot automatically add a new PCI bus for a device with connect flags 2000'), 12.9 adds a pcie-root-port and puts the bridge behind it. The release that changed it (after 11.3) not located, so 11.4-12.8 keep 11.3's"),
        new(LibvirtBehaviour.ScsiModelFromFirstController, new Version(12, 9), "qemuDomainDefaultSCSIControllerModel (src/qemu/qemu_domain.c), called from qemuDomainControllerDefPostParse (src/qemu/qemu_postparse.c); measured on the 12.9 daemon (Debian 13 backports): with SCSI controller 0 virtio-scsi, the ones it adds for disks are virtio-scsi (11.3: lsilogic); with 0 lsilogic and 1 virtio-scsi they are lsilogic; a controller 0 without model beside a virtio-scsi 1 becomes virtio-scsi. The release that changed it (after 11.3) not located, so 11.4-12.8 keep 11.3's"),
    ];

    /// <summary>The oldest libvirt known (Debian 11) and the newest (Debian 13 backports).</summary>
    public static readonly Version Oldest = new(7, 0), Newest = new(12, 9);

    private readonly HashSet<LibvirtBehaviour> _behaviours;

    private LibvirtProfile(Version version)
    {
        Version = version;
        _behaviours = Rows.Where(r => version >= r.Since).Select(r => r.Behaviour).ToHashSet();
    }

    public Version Version { get; }

    public bool Has(LibvirtBehaviour behaviour) => _behaviours.Contains(behaviour);

    public static LibvirtProfile For(Version version) => new(new Version(version.Major, version.Minor));

    /// <summary>
    /// "X.Y" or "X.Y.Z" from 7.0 to 11.3; a newer version gets the newest profile and a warning
    /// (<paramref name="newerThanKnown"/>); anything else is null with the reason.
    /// </summary>
    public static LibvirtProfile? Parse(string text, out string? error, out bool newerThanKnown)
    {
        newerThanKnown = false;
        error = null;
        var trimmed = text.Trim();
        if (!trimmed.Contains('.')) trimmed += ".0"; // "9" is 9.0
        if (!Version.TryParse(trimmed, out var v) || trimmed.Count(c => c == '.') > 2)
        {
            error = $"'{text}' is not a libvirt version (X.Y, known: {Oldest.ToString(2)} to {Newest.ToString(2)})";
            return null;
        }
        if (v < Oldest)
        {
            error = $"libvirt {text} is older than the oldest known, {Oldest.ToString(2)} (known: {Oldest.ToString(2)} to {Newest.ToString(2)})";
            return null;
        }
        if (new Version(v.Major, v.Minor) > Newest)
        {
            newerThanKnown = true;
            return For(Newest);
        }
        return For(v);
    }

    /// <summary>What is said when a version newer than the newest known is asked for (<paramref name="asked"/> names it).</summary>
    public static string NewerThanKnown(string asked) =>
        $"{asked} is newer than the newest known ({Newest.ToString(2)}): {Newest.ToString(2)}'s choices are reproduced";

    public override string ToString() => Version.ToString(2);
}
