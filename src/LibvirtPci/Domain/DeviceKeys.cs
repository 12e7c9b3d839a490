using LibvirtPci.Xml;

namespace LibvirtPci.Domain;

/// <summary>
/// A controller's identity: its type and index (the bus number devices refer to), and for an ICH9
/// UHCI companion, which shares the index of its EHCI master, the model. Built here and only here.
/// The key never depends on what libvirt or this tool fill in: the master's model (a USB controller
/// without one becomes ich9-ehci1 or piix3-uhci) is not part of it, so a controller keeps its key
/// once its model is written out. A companion is a companion only by its model, which is always
/// the user's.
/// </summary>
public readonly record struct ControllerKey(string Type, string Index, string? Usb2Model = null)
{
    private const string Prefix = "controller/";

    public static ControllerKey Of(string type, int index, string? model = null) => Of(type, index.ToString(System.Globalization.CultureInfo.InvariantCulture), model);

    public static ControllerKey Of(string type, string index, string? model) =>
        new(type, index, type == "usb" && IsUhciCompanion(model) ? model : null);

    private static bool IsUhciCompanion(string? model) => model is "ich9-uhci1" or "ich9-uhci2" or "ich9-uhci3";

    /// <summary>
    /// The key a 0.2.0 ledger wrote for the same controller: it added the model of an ICH9 EHCI
    /// master (controller/usb/0/ich9-ehci1), so the key changed when the model was written out.
    /// </summary>
    public static string Upgrade(string key) =>
        key.StartsWith(Prefix + "usb/", StringComparison.Ordinal) && key.EndsWith("/ich9-ehci1", StringComparison.Ordinal)
            ? key[..^"/ich9-ehci1".Length] : key;

    public static ControllerKey Pci(int index) => Of("pci", index);

    /// <summary>The PCI controller (bus) a key names, if it names one.</summary>
    public static bool IsPci(string key, out int index)
    {
        index = -1;
        return key.StartsWith(Prefix + "pci/", StringComparison.Ordinal) && int.TryParse(key.AsSpan(Prefix.Length + 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out index);
    }

    public override string ToString() => Usb2Model is null ? $"{Prefix}{Type}/{Index}" : $"{Prefix}{Type}/{Index}/{Usb2Model}";

    public static implicit operator string(ControllerKey key) => key.ToString();
}

/// <summary>
/// Identity keys (docs/architecture.md): what makes "the same device" across edits and reordering.
/// interface → MAC; disk → target dev; hostdev → source address; controller → type+index;
/// a user alias (ua-*) wins over everything; singletons → element + model + ordinal.
/// </summary>
public static class DeviceKeys
{
    public static string KeyOf(XmlElementSpan el, int ordinal)
    {
        // A controller is its type and index (the bus number devices refer to); an alias we or the
        // user give it later must not turn it into another device.
        if (el.Name == "controller")
            return ControllerKey.Of(el.Attr("type") ?? "?", el.Attr("index") ?? "#" + ordinal, el.Attr("model"));
        if (ChildAttr(el, "alias", "name") is { } alias && alias.StartsWith("ua-", StringComparison.Ordinal))
            return $"alias/{alias}";
        switch (el.Name)
        {
            case "interface":
                if (ChildAttr(el, "mac", "address") is { } mac) return $"interface/{mac.ToLowerInvariant()}";
                break;
            case "disk":
                if (ChildAttr(el, "target", "dev") is { } dev) return $"disk/{dev}";
                break;
            case "hostdev":
                if (HostdevSource(el) is { } src) return $"hostdev/{src}";
                break;
            case "filesystem":
                if (ChildAttr(el, "target", "dir") is { } dir) return $"filesystem/{dir}";
                break;
            case "shmem":
                if (el.Attr("name") is { } name) return $"shmem/{name}";
                break;
        }
        var model = el.Attr("model") ?? ChildAttr(el, "model", "type") ?? el.Attr("type") ?? el.Attr("bus");
        return model is null ? $"{el.Name}/#{ordinal}" : $"{el.Name}/{model}#{ordinal}";
    }

    /// <summary>A key made of an ordinal (no MAC, target, source or index to name the device by).</summary>
    public static bool IsWeak(string key) => key.Contains('#', StringComparison.Ordinal);

    /// <summary>What a key names a device of: "interface" for interface/…, "controller/usb" for a USB controller.</summary>
    public static string KindOf(string key)
    {
        var parts = key.Split('/');
        return parts[0] == "controller" && parts.Length > 1 ? parts[0] + "/" + parts[1] : parts[0];
    }

    private static string? ChildAttr(XmlElementSpan el, string child, string attr) => el.Element(child)?.Attr(attr);

    /// <summary>PCI host address, mdev UUID, SCSI host wwpn, USB vendor:product or bus.device.</summary>
    public static string? HostdevSource(XmlElementSpan el)
    {
        if (el.Element("source") is not { } source) return null;
        var addr = source.Element("address");
        switch (el.Attr("type"))
        {
            case "pci" when addr is not null:
                int F(string n) => (int)(PciAddress.ParseNumber(addr.Attr(n) ?? "0") ?? 0);
                return $"pci/{new PciAddress(F("domain"), F("bus"), F("slot"), F("function"))}";
            case "mdev" when addr?.Attr("uuid") is { } uuid:
                return $"mdev/{uuid.ToLowerInvariant()}";
            case "scsi_host":
                return $"scsi_host/{source.Attr("wwpn")}";
            case "usb":
                var v = ChildAttr(source, "vendor", "id");
                var p = ChildAttr(source, "product", "id");
                if (v is not null) return $"usb/{v}:{p}";
                if (addr is not null) return $"usb/{addr.Attr("bus")}.{addr.Attr("device")}";
                break;
            case "scsi" when addr is not null:
                var adapter = ChildAttr(source, "adapter", "name");
                return $"scsi/{adapter}:{addr.Attr("bus")}:{addr.Attr("target")}:{addr.Attr("unit")}";
        }
        return null;
    }
}
