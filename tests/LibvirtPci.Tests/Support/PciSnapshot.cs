using LibvirtPci.Domain;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Support;

/// <summary>
/// The PCI facts of a domain XML keyed by device identity (never position): every PCI address
/// with its multifunction flag, and every PCI controller's model and target values. Two XMLs
/// that libvirt would consider the same PCI topology have equal snapshots.
/// </summary>
public sealed class PciSnapshot
{
    public SortedDictionary<string, string> Entries { get; } = new(StringComparer.Ordinal);

    public static PciSnapshot Of(string name, string text)
    {
        var domain = DomainDefinition.Parse(SourceText.FromString(name, text));
        var snap = new PciSnapshot();
        // libvirt lists the primary video first; number videos that way so both sides agree.
        var videos = domain.Devices.Where(d => d.Kind == "video")
            .OrderBy(d => d.Element.Element("model")?.Attr("primary") == "yes" ? 0 : 1).ToList();
        foreach (var d in domain.Devices)
        {
            var key = d.Kind == "video" ? $"video#{videos.IndexOf(d)}" : KeyFor(d);
            if (d.Address.IsPciPresent)
                snap.Entries[key + " @"] = d.Address.Pci + (d.Address.Multifunction == true ? " multi" : "");
            if (d.ControllerType == "pci")
            {
                var target = d.Element.Element("target");
                snap.Entries[key + " model"] = d.Element.Attr("model") + " " + d.Element.Element("model")?.Attr("name");
                if (target is not null)
                    snap.Entries[key + " target"] = string.Join(",", new[] { "chassis", "port", "chassisNr", "busNr" }
                        .Select(a => target.Attr(a) is { } v ? $"{a}={Normalize(v)}" : null).Where(x => x is not null));
            }
        }
        return snap;
    }

    private static string Normalize(string v) => PciAddress.ParseNumber(v)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? v;

    /// <summary>Controllers by type+index (USB2 companions also by model); other devices by their identity key.</summary>
    private static string KeyFor(Device d) => d.Kind switch
    {
        "controller" => $"controller/{d.ControllerType}/{d.Index}{(DomainDefinitionExtensions.IsUsb2(d) ? "/" + d.Element.Attr("model") : "")}",
        "interface" or "disk" or "hostdev" or "filesystem" or "shmem" => d.Key,
        _ => $"{d.Kind}#{d.Ordinal}",
    };

    /// <summary>Lines that differ, as "key: expected | actual".</summary>
    public IReadOnlyList<string> Diff(PciSnapshot actual)
    {
        var lines = new List<string>();
        foreach (var k in Entries.Keys.Union(actual.Entries.Keys).OrderBy(k => k, StringComparer.Ordinal))
        {
            Entries.TryGetValue(k, out var e);
            actual.Entries.TryGetValue(k, out var a);
            if (e != a) lines.Add($"{k}: expected {e ?? "(none)"} | got {a ?? "(none)"}");
        }
        return lines;
    }
}

internal static class DomainDefinitionExtensions
{
    public static bool IsUsb2(Device d) => d.ControllerType == "usb" && d.Element.Attr("model") is { } m && m.StartsWith("ich9-", StringComparison.Ordinal);
}
