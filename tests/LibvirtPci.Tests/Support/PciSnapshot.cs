using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Support;

/// <summary>A domain's PCI facts (see <see cref="PciFacts"/>), parsed from text, for comparisons in tests.</summary>
public sealed class PciSnapshot
{
    public SortedDictionary<string, string> Entries { get; }

    private PciSnapshot(SortedDictionary<string, string> entries) => Entries = entries;

    /// <summary>The facts of <paramref name="text"/> (System.Xml.Linq: compared by meaning); <paramref name="name"/> says which side it is in messages.</summary>
    public static PciSnapshot Of(string name, string text)
    {
        try
        {
            return new(PciFacts.Of(text));
        }
        catch (System.Xml.XmlException e)
        {
            throw new InvalidOperationException($"{name}: not XML: {e.Message}", e);
        }
    }

    /// <summary>Lines that differ, as "key: expected | actual".</summary>
    public IReadOnlyList<string> Diff(PciSnapshot actual) => PciFacts.Diff(Entries, actual.Entries);
}
