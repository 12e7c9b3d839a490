using LibvirtPci.Xml;

namespace LibvirtPci.Domain;

/// <summary>
/// Identity keys (DESIGN.md): what makes "the same device" across edits and reordering.
/// interface → MAC; disk → target dev; hostdev → source address; controller → type+index;
/// a user alias (ua-*) wins over everything; singletons → element + model + ordinal.
/// </summary>
public static class DeviceKeys
{
    public static string KeyOf(IElementView el, int ordinal)
    {
        // A controller is its type and index (the bus number devices refer to); an alias we or the
        // user give it later must not turn it into another device.
        if (el.Name == "controller")
            return $"controller/{el.Attr("type") ?? "?"}/{el.Attr("index") ?? "#" + ordinal}{Usb2Suffix(el)}";
        var alias = el.Child("alias")?.Attr("name");
        if (alias is not null && alias.StartsWith("ua-", StringComparison.Ordinal))
            return $"alias/{alias}";
        switch (el.Name)
        {
            case "interface":
                if (el.Child("mac")?.Attr("address") is { } mac) return $"interface/{mac.ToLowerInvariant()}";
                break;
            case "disk":
                if (el.Child("target")?.Attr("dev") is { } dev) return $"disk/{dev}";
                break;
            case "hostdev":
                if (HostdevSource(el) is { } src) return $"hostdev/{src}";
                break;
            case "filesystem":
                if (el.Child("target")?.Attr("dir") is { } dir) return $"filesystem/{dir}";
                break;
            case "shmem":
                if (el.Attr("name") is { } name) return $"shmem/{name}";
                break;
        }
        var model = el.Attr("model") ?? el.Child("model")?.Attr("type") ?? el.Attr("type") ?? el.Attr("bus");
        return model is null ? $"{el.Name}/#{ordinal}" : $"{el.Name}/{model}#{ordinal}";
    }

    private static string Usb2Suffix(IElementView el) =>
        el.Attr("type") == "usb" && el.Attr("model") is { } m && m.StartsWith("ich9-", StringComparison.Ordinal) ? "/" + m : "";

    /// <summary>PCI host address, mdev UUID, SCSI host wwpn, USB vendor:product or bus.device.</summary>
    public static string? HostdevSource(IElementView el)
    {
        var source = el.Child("source");
        if (source is null) return null;
        var addr = source.Child("address");
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
                var v = source.Child("vendor")?.Attr("id");
                var p = source.Child("product")?.Attr("id");
                if (v is not null) return $"usb/{v}:{p}";
                if (addr is not null) return $"usb/{addr.Attr("bus")}.{addr.Attr("device")}";
                break;
            case "scsi" when addr is not null:
                var adapter = source.Child("adapter")?.Attr("name");
                return $"scsi/{adapter}:{addr.Attr("bus")}:{addr.Attr("target")}:{addr.Attr("unit")}";
        }
        return null;
    }
}
