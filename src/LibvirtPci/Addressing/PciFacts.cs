using System.Globalization;
using LibvirtPci.Domain;
using LibvirtPci.Xml;

namespace LibvirtPci.Addressing;

/// <summary>
/// The PCI facts of a domain keyed by device identity (never position): every PCI address with
/// its multifunction flag, and every PCI controller's model and target values. Two domains that
/// place every device the same have equal facts: used to verify what libvirt stored (migrate) and
/// to compare documents in tests. Their bytes do not matter: quoting, indentation and attribute
/// order are no difference.
/// </summary>
public static class PciFacts
{
    /// <summary>The facts of a document's text (<paramref name="name"/> names it in a parse error, an <see cref="InputException"/>).</summary>
    public static SortedDictionary<string, string> Of(string xml, string name = "<xml>") =>
        Of(XmlSpanParser.Parse(SourceText.FromString(name, xml)));

    public static SortedDictionary<string, string> Of(XmlSpanDocument document)
    {
        var facts = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var devices = document.Root.Element("devices")?.Children.Where(e => e.NamespaceUri.Length == 0).ToList() ?? [];
        // libvirt lists the primary video first; number videos that way so both sides agree.
        var videos = devices.Where(d => d.Name == "video")
            .OrderBy(d => d.Element("model")?.Attr("primary") == "yes" ? 0 : 1).ToList();
        var ordinals = new Dictionary<string, int>();
        foreach (var d in devices)
        {
            var kind = d.Name;
            ordinals.TryGetValue(kind, out int ordinal);
            ordinals[kind] = ordinal + 1;
            var key = kind switch
            {
                "video" => $"video#{videos.IndexOf(d)}",
                "controller" or "interface" or "disk" or "hostdev" or "filesystem" or "shmem" => DeviceKeys.KeyOf(d, ordinal),
                _ => $"{kind}#{ordinal}",
            };
            if (kind != "console" && PresentPciAddress(d) is { } address)
                facts[key + " @"] = address;
            if (kind == "controller" && d.Attr("type") == "pci")
            {
                facts[key + " model"] = d.Attr("model") + " " + d.Element("model")?.Attr("name");
                if (d.Element("target") is { } target)
                    facts[key + " target"] = string.Join(",", new[] { "chassis", "port", "chassisNr", "busNr" }
                        .Select(a => target.Attr(a) is { } v ? $"{a}={PciAddress.ParseNumber(v)?.ToString(CultureInfo.InvariantCulture) ?? v}" : null)
                        .Where(x => x is not null));
            }
        }
        return facts;
    }

    /// <summary>"0000:00:03.0", with " multi" for multifunction='on'; null when not a present PCI address (libvirt: domain, bus and slot not all 0).</summary>
    private static string? PresentPciAddress(XmlElementSpan device)
    {
        if (device.Element("address") is not { } a || a.Attr("type") != "pci") return null;
        int Field(string name) => (int)(PciAddress.ParseNumber(a.Attr(name) ?? "0") ?? 0);
        var address = new PciAddress(Field("domain"), Field("bus"), Field("slot"), Field("function"));
        if (address.IsEmpty) return null;
        return address + (a.Attr("multifunction") == "on" ? " multi" : "");
    }

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
