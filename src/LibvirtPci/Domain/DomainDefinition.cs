using LibvirtPci.Xml;

namespace LibvirtPci.Domain;

/// <summary>The machine types the tool handles: libvirt's qemuDomainMachineIsI440FX and qemuDomainMachineIsQ35.</summary>
public enum MachineFamily { I440fx, Q35 }

public enum Firmware { SeaBios, Ovmf }

/// <summary>
/// A libvirt domain as read from its XML: machine, firmware and the devices that can sit on PCI.
/// It is a view over the lossless <see cref="XmlSpanDocument"/>; nothing here changes the text.
/// </summary>
public sealed class DomainDefinition
{
    public const string QemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0";

    public XmlSpanDocument Document { get; }
    public XmlElementSpan Root => Document.Root;
    public XmlElementSpan? DevicesElement { get; }
    public string? Arch { get; }
    public string? Machine { get; }
    public MachineFamily Family { get; }
    public Firmware Firmware { get; }
    public IReadOnlyList<Device> Devices { get; }
    public string Name => Document.Source.Name;

    private DomainDefinition(XmlSpanDocument document)
    {
        Document = document;
        var os = Root.Element("os");
        var type = os?.Element("type");
        Arch = type?.Attr("arch");
        Machine = type?.Attr("machine");
        Family = ClassifyMachine(Machine, Arch) ?? throw Unhandled(document, type);
        Firmware = DetectFirmware(document, os);
        DevicesElement = Root.Element("devices");
        Devices = ReadDevices(DevicesElement);
    }

    public static DomainDefinition Parse(SourceText source) => FromDocument(XmlSpanParser.Parse(source));

    public static DomainDefinition FromDocument(XmlSpanDocument document)
    {
        var root = document.Root;
        if (root.Name != "domain" || root.NamespaceUri.Length != 0)
        {
            var (l, c) = document.Position(root);
            throw new InputException(document.Source.Name, "LP204", $"the root element is <{root.Name}>, not <domain>: this is not a libvirt domain definition", l, c);
        }
        return new DomainDefinition(document);
    }

    /// <summary>True for a document whose root is a libvirt &lt;domain&gt; (used to pick files in a tree).</summary>
    public static bool IsDomainRoot(XmlSpanDocument document) => document.Root.Name == "domain" && document.Root.NamespaceUri.Length == 0;

    /// <summary>
    /// libvirt's qemuDomainMachineIsQ35 / IsI440FX applied to what the XML says (no machine: libvirt's
    /// x86 default, pc; RHEL's pc-q35-rhel* and pc-i440fx-rhel*/rhel* included); null for anything else.
    /// </summary>
    public static MachineFamily? ClassifyMachine(string? machine, string? arch)
    {
        if (arch is not null and not ("x86_64" or "i686")) return null;
        if (machine is null) return MachineFamily.I440fx;
        if (machine == "q35" || machine.StartsWith("pc-q35-", StringComparison.Ordinal)) return MachineFamily.Q35;
        if (machine == "pc" || machine.StartsWith("pc-0.", StringComparison.Ordinal) || machine.StartsWith("pc-1.", StringComparison.Ordinal)
            || machine.StartsWith("pc-i440fx-", StringComparison.Ordinal) || machine.StartsWith("rhel", StringComparison.Ordinal))
            return MachineFamily.I440fx;
        return null;
    }

    /// <summary>
    /// Machines other than pc and q35 (microvm, isapc, virt, ...) place devices by other rules: refused,
    /// never guessed (a guess would add a cirrus video to a microvm and exit 0).
    /// </summary>
    private static InputException Unhandled(XmlSpanDocument document, XmlElementSpan? type)
    {
        var (line, column) = document.Position(type ?? document.Root);
        var arch = type?.Attr("arch");
        var message = arch is not null and not ("x86_64" or "i686")
            ? $"architecture '{arch}' is not handled (x86_64 and i686 only)"
            : $"machine type '{type?.Attr("machine")}' is not handled (pc and q35 only)";
        return new InputException(document.Source.Name, "LP227", message, line, column);
    }

    private static Firmware DetectFirmware(XmlSpanDocument document, XmlElementSpan? os)
    {
        if (os is null) return Firmware.SeaBios;
        if (os.Attr("firmware") == "efi") return Firmware.Ovmf;
        var loader = os.Element("loader");
        if (loader is not null)
        {
            var path = document.InnerText(loader);
            if (path.Contains("OVMF", StringComparison.OrdinalIgnoreCase) || path.Contains("edk2", StringComparison.OrdinalIgnoreCase)
                || path.Contains("AAVMF", StringComparison.OrdinalIgnoreCase) || loader.Attr("type") == "pflash")
                return Firmware.Ovmf;
        }
        return Firmware.SeaBios;
    }

    private List<Device> ReadDevices(XmlElementSpan? devices)
    {
        var list = new List<Device>();
        if (devices is null) return list;
        var ordinals = new Dictionary<string, int>();
        List<Finding>? errors = null; // every device's error, not just the first: a user fixes them in one go
        foreach (var el in devices.Children)
        {
            if (el.NamespaceUri.Length != 0) continue;
            try
            {
                if (el.Name == "controller" && el.Attr("index") is { } rawIndex && (PciAddress.ParseNumber(rawIndex) is not { } idx || idx > int.MaxValue))
                    throw Bad(el, $"invalid controller index '{rawIndex}' (libvirt: cannot parse controller index)", "LP209");
                ordinals.TryGetValue(el.Name, out int ord);
                ordinals[el.Name] = ord + 1;
                list.Add(new Device
                {
                    Element = el,
                    Address = ReadAddress(el),
                    Key = DeviceKeys.KeyOf(el, ord),
                    Ordinal = ord,
                });
            }
            catch (InputException e)
            {
                (errors ??= []).AddRange(e.Errors);
            }
        }
        if (errors is not null) throw new InputException(Name, errors); // in document order already
        return list;
    }

    /// <summary>virDomainDeviceAddressType: the address types libvirt's parser accepts.</summary>
    private static readonly HashSet<string> KnownAddressTypes = new(StringComparer.Ordinal)
    {
        "pci", "drive", "virtio-serial", "ccid", "usb", "spapr-vio", "virtio-s390", "ccw", "virtio-mmio", "isa", "dimm", "unassigned",
    };

    private DeviceAddress ReadAddress(XmlElementSpan device)
    {
        // A hostdev's <source><address> is the host's device; only a direct child is the guest address.
        var el = device.Element("address");
        if (el is null) return DeviceAddress.None;
        var type = el.Attr("type");
        if (type is null || !KnownAddressTypes.Contains(type))
            throw Bad(el, type is null ? "<address> without a type" : $"unknown address type '{type}' (libvirt refuses it)");
        if (type != "pci") return new DeviceAddress(type, default, null, el);
        int Field(string name, int max)
        {
            if (el.Attribute(name) is not { } attr) return 0;
            var v = PciAddress.ParseNumber(attr.Value);
            if (v is null || v < 0 || v > max)
            {
                var (l, c) = Document.Position(attr);
                throw new InputException(Name, "LP210",
                    v is null ? $"invalid PCI address {name}='{attr.Value}'" : $"invalid PCI address: {name} must be <= 0x{max:x} (got '{attr.Value}')", l, c);
            }
            return (int)v;
        }
        var addr = new PciAddress(Field("domain", 0xFFFF), Field("bus", 0xFF), Field("slot", PciAddress.MaxSlot), Field("function", PciAddress.MaxFunction));
        bool? multi = el.Attr("multifunction") switch { "on" => true, "off" => false, null => null, var v => throw Bad(el, $"multifunction must be 'on' or 'off', not '{v}'") };
        return new DeviceAddress("pci", addr, multi, el);
    }

    private InputException Bad(XmlElementSpan el, string message, string code = "LP210")
    {
        var (l, c) = Document.Position(el);
        return new InputException(Name, code, message, l, c);
    }

    /// <summary>ICH9 USB2 companions share the index of their EHCI master.</summary>
    internal static bool IsUsb2Companion(Device d) => d.ControllerType == "usb" && IsIch9Usb2Model(d.Element.Attr("model"));

    /// <summary>The ICH9 USB2 set (EHCI master and its UHCI companions), which shares one slot and one index.</summary>
    public static bool IsIch9Usb2Model(string? model) => model is "ich9-ehci1" or "ich9-uhci1" or "ich9-uhci2" or "ich9-uhci3";


    public (int Line, int Column) Position(XmlElementSpan element) => Document.Position(element);
}

