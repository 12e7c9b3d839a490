using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Support;

/// <summary>A domain's PCI facts (see <see cref="PciFacts"/>), parsed from text, for comparisons in tests.</summary>
public sealed class PciSnapshot
{
    public SortedDictionary<string, string> Entries { get; }

    private PciSnapshot(SortedDictionary<string, string> entries) => Entries = entries;

    public static PciSnapshot Of(string name, string text) => new(PciFacts.Of(DomainDefinition.Parse(SourceText.FromString(name, text))));

    /// <summary>Lines that differ, as "key: expected | actual".</summary>
    public IReadOnlyList<string> Diff(PciSnapshot actual) => PciFacts.Diff(Entries, actual.Entries);
}
