using LibvirtPci.Domain;

namespace LibvirtPci.Addressing;

/// <summary>
/// The PCI facts of a domain keyed by device identity (never position): every PCI address with
/// its multifunction flag, and every PCI controller's model and target values. Two domains
/// that place every device the same have equal facts; used to verify what libvirt stored.
/// </summary>
public static class PciFacts
{
    public static SortedDictionary<string, string> Of(DomainDefinition domain)
    {
        var facts = new SortedDictionary<string, string>(StringComparer.Ordinal);
        // libvirt lists the primary video first; number videos that way so both sides agree.
        var videos = domain.Devices.Where(d => d.Kind == "video")
            .OrderBy(d => d.Element.Element("model")?.Attr("primary") == "yes" ? 0 : 1).ToList();
        foreach (var d in domain.Devices)
        {
            var key = d.Kind == "video" ? $"video#{videos.IndexOf(d)}" : KeyFor(d);
            if (d.Address.IsPciPresent && d.Kind != "console")
                facts[key + " @"] = d.Address.Pci + (d.Address.Multifunction == true ? " multi" : "");
            if (d.ControllerType == "pci")
            {
                facts[key + " model"] = d.Element.Attr("model") + " " + d.Element.Element("model")?.Attr("name");
                if (d.Target is { } target)
                    facts[key + " target"] = string.Join(",", new[] { "chassis", "port", "chassisNr", "busNr" }
                        .Select(a => target.Attr(a) is { } v ? $"{a}={PciAddress.ParseNumber(v)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? v}" : null)
                        .Where(x => x is not null));
            }
        }
        return facts;
    }

    /// <summary>Controllers by type+index (USB2 companions also by model); keyed devices by identity; the rest by kind and order.</summary>
    private static string KeyFor(Device d) => d.Kind switch
    {
        "controller" => $"controller/{d.ControllerType}/{d.Index}{(DomainDefinition.IsUsb2Companion(d) ? "/" + d.Element.Attr("model") : "")}",
        "interface" or "disk" or "hostdev" or "filesystem" or "shmem" => d.Key,
        _ => $"{d.Kind}#{d.Ordinal}",
    };

    /// <summary>Lines that differ, as "key: expected X | got Y".</summary>
    public static IReadOnlyList<string> Diff(IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, string> actual)
    {
        var lines = new List<string>();
        foreach (var k in expected.Keys.Union(actual.Keys).OrderBy(k => k, StringComparer.Ordinal))
        {
            expected.TryGetValue(k, out var e);
            actual.TryGetValue(k, out var a);
            if (e != a) lines.Add($"{k}: expected {e ?? "(none)"} | got {a ?? "(none)"}");
        }
        return lines;
    }
}
