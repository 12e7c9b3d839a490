using LibvirtPci.Xml;

namespace LibvirtPci.Domain;

/// <summary>
/// The io-reserve passthrough a domain already carries (any qemu prefix): a fact of the domain,
/// read by the I/O budget (Limits) and changed by the planner (Passthrough), so it lives here and
/// neither of those depends on the other's reading of it.
/// </summary>
public sealed class IoReserveSettings
{
    public const string GlobalArg = "pcie-root-port.io-reserve=0";
    public const string AliasPrefix = "ua-pci-rp";

    /// <summary>&lt;qemu:commandline&gt; has -global pcie-root-port.io-reserve=0.</summary>
    public bool Global { get; init; }
    /// <summary>Aliases of devices with a &lt;qemu:override&gt; setting io-reserve=0.</summary>
    public IReadOnlySet<string> PerPortAliases { get; init; } = new HashSet<string>();
    public XmlElementSpan? CommandLine { get; init; }
    public IReadOnlyList<XmlElementSpan> GlobalArgs { get; init; } = Array.Empty<XmlElementSpan>();
    public XmlElementSpan? Override { get; init; }

    public static IoReserveSettings Read(DomainDefinition domain)
    {
        var qemu = domain.Root.Children.Where(c => c.NamespaceUri == DomainDefinition.QemuNamespace).ToList();
        var cmd = qemu.FirstOrDefault(c => c.LocalName == "commandline");
        var args = cmd?.Children.Where(c => c.LocalName == "arg" && c.NamespaceUri == DomainDefinition.QemuNamespace).ToList() ?? [];
        var pair = new List<XmlElementSpan>();
        for (int i = 0; i + 1 < args.Count; i++)
            if (args[i].Attr("value") == "-global" && args[i + 1].Attr("value") == GlobalArg)
            {
                pair.Add(args[i]);
                pair.Add(args[i + 1]);
                break;
            }
        var ovr = qemu.FirstOrDefault(c => c.LocalName == "override");
        var aliases = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dev in ovr?.Children.Where(c => c.LocalName == "device") ?? [])
            if (dev.Attr("alias") is { } alias && dev.Children.Where(f => f.LocalName == "frontend").SelectMany(f => f.Children)
                    .Any(p => p.LocalName == "property" && p.Attr("name") == "io-reserve" && p.Attr("value") == "0"))
                aliases.Add(alias);
        return new IoReserveSettings { Global = pair.Count == 2, PerPortAliases = aliases, CommandLine = cmd, GlobalArgs = pair, Override = ovr };
    }

    /// <summary>
    /// Whether a port's I/O window is switched off: the global reaches QEMU devices of type
    /// pcie-root-port only (not ioh3420 nor switch ports); an override reaches its alias.
    /// </summary>
    public bool AppliesTo(Device port)
    {
        if (port.Alias is { } alias && PerPortAliases.Contains(alias)) return true;
        var qemuType = port.Element.Element("model")?.Attr("name") ?? (port.Element.Attr("model") == "pcie-root-port" ? "pcie-root-port" : null);
        return Global && qemuType == "pcie-root-port";
    }
}
