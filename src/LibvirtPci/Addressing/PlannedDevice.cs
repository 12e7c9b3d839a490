using LibvirtPci.Domain;

namespace LibvirtPci.Addressing;

/// <summary>How a device came by its final address.</summary>
public enum AddressOrigin
{
    /// <summary>The device needs no PCI address.</summary>
    NotPci,
    /// <summary>The address was written in the XML and kept.</summary>
    Kept,
    /// <summary>Chosen by the allocator.</summary>
    Assigned,
}

/// <summary>
/// A device as libvirt's address assignment sees it (its virDomainDeviceInfo plus what decides
/// its connect flags): either a device of the XML, or one libvirt adds implicitly.
/// </summary>
public sealed class PlannedDevice
{
    /// <summary>The element in the XML, or null for a device the allocator adds.</summary>
    public Device? Source { get; init; }
    public required string Kind { get; init; }
    public required string Key { get; set; }
    /// <summary>Effective model after libvirt's post-parse defaults (e.g. piix3-uhci, lsilogic, cirrus).</summary>
    public string? Model { get; set; }
    public string? Type { get; init; }
    /// <summary>Controller index (controllers only; -1 when the XML leaves it out).</summary>
    public int Index { get; set; } = -1;
    public string? ControllerType { get; init; }
    public PciControllerModel? PciModel { get; init; }
    public bool HotplugOff { get; init; }
    /// <summary>USB2 companion master start port (implicit ich9-uhci controllers).</summary>
    public int? MasterStartPort { get; init; }
    public ConnectFlags Flags { get; set; }

    // The address info, as it evolves through the passes.
    public string? AddressType { get; set; }
    public PciAddress Pci { get; set; }
    public bool? Multifunction { get; set; }

    public bool IsPciPresent => AddressType == "pci" && !Pci.IsEmpty;
    public bool IsPciWanted => AddressType is null || (AddressType == "pci" && Pci.IsEmpty);

    public AddressOrigin Origin { get; set; }
    /// <summary>One sentence on why the device has its address (for --explain and --json).</summary>
    public string Reason
    {
        get => _reason ??= _why?.Invoke() ?? "";
        set => (_reason, _why) = (value, null);
    }
    private string? _reason = "";
    private Func<string>? _why;

    public bool IsImplicit => Source is null;
    public bool IsPciController => ControllerType == "pci";

    public void SetAddress(PciAddress addr, string reason)
    {
        AddressType = "pci";
        Pci = addr;
        Multifunction = null; // libvirt writes a fresh address: a multifunction it was given is dropped
        Origin = AddressOrigin.Assigned;
        Reason = reason;
    }

    /// <summary>
    /// As <see cref="SetAddress(PciAddress, string)"/>, with a reason written only when asked for
    /// (--explain, --json): a plain run does not format a sentence per device.
    /// </summary>
    public void SetAddress(PciAddress addr, Func<string> why)
    {
        SetAddress(addr, "");
        (_reason, _why) = (null, why);
    }

    /// <summary>Adds to the reason, still written only when asked for.</summary>
    public void ExplainFurther(Func<string> more)
    {
        var (reason, why) = (_reason, _why);
        (_reason, _why) = (null, () => (why?.Invoke() ?? reason ?? "") + more());
    }

    public override string ToString() => $"{Key} {(IsPciPresent ? Pci.ToString() : "-")}";
}
