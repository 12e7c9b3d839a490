using LibvirtPci.Addressing;
using LibvirtPci.Domain;

namespace LibvirtPci.Limits;

/// <summary>
/// Which devices have a PCI I/O BAR (and so need their bridge to forward an I/O window).
/// Measured on QEMU 7.2: e1000e, e1000, rtl8139, virtio-transitional. Known from QEMU:
/// UHCI, LSI/megasas SCSI, IDE, AHCI, qxl, ac97/es1370, pci-serial, ne2k/pcnet; and virtio
/// devices on a conventional PCI bus, which QEMU makes transitional by default.
/// </summary>
public static class IoBars
{
    private static readonly HashSet<string> IoNics = new(StringComparer.Ordinal) { "e1000", "e1000e", "rtl8139", "ne2k_pci", "pcnet", "virtio-transitional", "82540EM", "82545EM", "82543GC", "vmxnet3" };

    /// <summary>Why this device needs I/O space, or null if it does not.</summary>
    public static string? Reason(Device d, PciControllerModel? busModel)
    {
        bool conventionalBus = busModel is PciControllerModel.PciBridge or PciControllerModel.PcieToPciBridge or PciControllerModel.PciRoot or PciControllerModel.DmiToPciBridge or PciControllerModel.PciExpanderBus;
        var model = d.Model;
        bool virtio = model is null or "virtio" or "virtio-scsi" or "virtio-transitional" or "virtio-non-transitional";
        switch (d.Kind)
        {
            case "interface":
                model ??= "rtl8139";
                if (IoNics.Contains(model)) return $"{model} has an I/O BAR";
                if (model == "virtio" && conventionalBus) return "virtio on a conventional PCI bus is transitional (I/O BAR)";
                return null;
            case "controller":
                return d.ControllerType switch
                {
                    "usb" when model is "piix3-uhci" or "piix4-uhci" or "ich9-uhci1" or "ich9-uhci2" or "ich9-uhci3" or "vt82c686b-uhci" or null => "UHCI has an I/O BAR",
                    "scsi" when model is "lsilogic" or "lsisas1068" or "lsisas1078" or "buslogic" or "dc390" or "am53c974" or "vmpvscsi" => $"{model} has an I/O BAR",
                    "scsi" or "virtio-serial" when model == "virtio-transitional" || (virtio && conventionalBus) => "virtio on a conventional PCI bus is transitional (I/O BAR)",
                    "ide" or "sata" => $"{d.ControllerType} has I/O BARs",
                    _ => null,
                };
            case "video":
                return d.Element.Element("model")?.Attr("type") == "qxl" ? "qxl has an I/O BAR" : null;
            case "sound":
                return model is "ac97" or "es1370" ? $"{model} has I/O BARs" : null;
            case "serial":
                return d.Element.Element("target")?.Attr("type") == "pci-serial" ? "pci-serial has an I/O BAR" : null;
            case "disk" when d.Element.Element("target")?.Attr("bus") == "virtio":
            case "rng" or "memballoon" or "filesystem" or "vsock":
            case "input" when d.Element.Attr("bus") == "virtio":
                if (model == "virtio-transitional") return "virtio-transitional has an I/O BAR";
                return conventionalBus && virtio ? "virtio on a conventional PCI bus is transitional (I/O BAR)" : null;
            default:
                return null;
        }
    }
}
