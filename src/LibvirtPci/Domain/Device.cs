using LibvirtPci.Xml;

namespace LibvirtPci.Domain;

/// <summary>
/// The <c>&lt;address&gt;</c> a device carries in the XML. libvirt's rules: an address is
/// <em>present</em> when it is type='pci' and not all of domain/bus/slot are 0; it is
/// <em>wanted</em> (to be assigned) when absent or type='pci' with domain=bus=slot=0.
/// </summary>
public sealed record DeviceAddress(string? Type, PciAddress Pci, bool? Multifunction, XmlElementSpan? Element)
{
    public static readonly DeviceAddress None = new(null, default, null, null);

    public bool IsPci => Type == "pci";
    public bool IsPciPresent => IsPci && !Pci.IsEmpty;
    public bool IsPciWanted => Type is null || (IsPci && Pci.IsEmpty);
}

/// <summary>One child element of <c>&lt;devices&gt;</c>, with what addressing needs to know about it.</summary>
public sealed class Device
{
    public required XmlElementSpan Element { get; init; }
    /// <summary>Element name: interface, disk, controller, hostdev, video, ...</summary>
    public string Kind => Element.Name;
    public required DeviceAddress Address { get; init; }
    /// <summary>Identity that survives reordering (docs/architecture.md, "Identity keys").</summary>
    public required string Key { get; init; }
    /// <summary>Position among devices of the same kind, in document order.</summary>
    public required int Ordinal { get; init; }

    public string? Type => Element.Attr("type");

    /// <summary>The device model as libvirt names it (attribute or &lt;model type=&gt;, per kind).</summary>
    public string? Model => Kind switch
    {
        "interface" or "video" or "shmem" => Element.Element("model")?.Attr("type") ?? (Kind == "video" ? null : Element.Attr("model")),
        _ => Element.Attr("model"),
    };

    public string? Alias => Element.Element("alias")?.Attr("name");

    // Controllers.
    public bool IsController => Kind == "controller";
    public string? ControllerType => IsController ? Element.Attr("type") : null;
    public int? Index => IsController && Element.Attr("index") is { } s && PciAddress.ParseNumber(s) is { } v && v <= int.MaxValue ? (int)v : null;
    public XmlElementSpan? Target => Element.Element("target");
    /// <summary>&lt;target hotplug='off'/&gt; on a PCI controller.</summary>
    public bool HotplugOff => Target?.Attr("hotplug") == "off";

    // Disks (the bus, which libvirt may infer from the target name, is DomainInventory.DiskBus).
    public string? TargetDev => Element.Element("target")?.Attr("dev");

    public override string ToString() => Key;
}
