using System.Xml;
using System.Xml.Linq;
using LibvirtPci.Domain;
using LibvirtPci.Stability;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Stability;

/// <summary>
/// The ledger as text: the sidecar file keeps the style System.Xml's indenting writer gave it up to
/// 0.2.0, any key survives the round trip through the tool's parser and through System.Xml, and
/// entries are listed in the natural order of their keys. Random ledgers, seeded.
/// </summary>
public sealed class LedgerTextTests
{
    private static readonly string[] Stems = ["controller/pci/", "controller/usb/", "disk/vd", "interface/52:54:00:00:00:", "alias/ua-", "hostdev/pci/0000:0", "filesystem//mnt/a&b<c>\"d'", "video/vga#", "shmem/x\ty\nz\r"];

    private static AddressLedger RandomLedger(Random rng)
    {
        var entries = new Dictionary<string, LedgerEntry>(StringComparer.Ordinal);
        var taken = new HashSet<PciAddress>();
        for (int i = rng.Next(0, 25); i > 0; i--)
        {
            var key = Stems[rng.Next(Stems.Length)] + rng.Next(0, 40); // never 99: a taker is another device
            var address = new PciAddress(0, rng.Next(0, 20), rng.Next(0, 32), 0);
            bool released = rng.Next(3) == 0;
            if (!released && !taken.Add(address)) continue;
            entries[key] = new LedgerEntry(key, address, released, released && rng.Next(2) == 0 ? Stems[rng.Next(Stems.Length)] + "99" : null);
        }
        int index = 0;
        var acpi = entries.Keys.Where(k => k.StartsWith("interface/", StringComparison.Ordinal)).ToDictionary(k => k, _ => ++index);
        return new AddressLedger(entries.Values).WithAcpiIndexes(acpi);
    }

    /// <summary>What System.Xml's XmlTextWriter (indented by two) printed for the ledger up to 0.2.0.</summary>
    private static string AsXmlWriterPrintedIt(AddressLedger ledger)
    {
        XNamespace ns = AddressLedger.Namespace;
        var root = new XElement(ns + "ledger", new XAttribute(XNamespace.Xmlns + AddressLedger.DefaultPrefix, AddressLedger.Namespace));
        var doc = XDocument.Parse(ledger.ToFileText());
        foreach (var child in doc.Root!.Elements()) root.Add(new XElement(child));
        var text = new StringWriter { NewLine = "\n" };
        using (var writer = new XmlTextWriter(text) { Formatting = Formatting.Indented, Indentation = 2 })
            root.WriteTo(writer);
        return text.ToString().ReplaceLineEndings("\n") + "\n";
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_sidecar_reads_back_the_same_through_both_parsers_in_the_writers_style(int seed)
    {
        var ledger = RandomLedger(new Random(seed));
        var text = ledger.ToFileText();
        var spans = XmlSpanParser.Parse(SourceText.FromString("l.ledger", text));
        Assert.True(AddressLedger.Read(spans, spans.Root).SameAs(ledger), text);
        var linq = XDocument.Parse(text).Root!;
        Assert.Equal(ledger.Count + ledger.AcpiIndexes.Count, linq.Elements().Count());
        foreach (var e in linq.Elements().Where(e => e.Name.LocalName != "acpi"))
            Assert.Equal(ledger[e.Attribute("key")!.Value]!.Address.ToString(), e.Attribute("address")!.Value);
        // the one difference: System.Xml's writer left a tab raw, which every reader turns into a space
        Assert.Equal(AsXmlWriterPrintedIt(ledger).Replace("\t", "&#x9;", StringComparison.Ordinal), text);
    }

    public static TheoryData<int> Seeds => new(Enumerable.Range(1, 40));

    [Fact]
    public void Keys_are_listed_in_natural_order()
    {
        var ledger = new AddressLedger(new[] { 10, 2, 1, 11, 3 }.Select(i => new LedgerEntry($"controller/pci/{i}", new PciAddress(0, 0, i + 1, 0), false)));
        var keys = XDocument.Parse(ledger.ToFileText()).Root!.Elements().Select(e => e.Attribute("key")!.Value);
        Assert.Equal(["controller/pci/1", "controller/pci/2", "controller/pci/3", "controller/pci/10", "controller/pci/11"], keys);
    }

    [Fact]
    public void Natural_order_is_a_total_order()
    {
        var rng = new Random(7);
        var keys = Enumerable.Range(0, 60).Select(_ => Stems[rng.Next(3)] + (rng.Next(4) == 0 ? "0" : "") + rng.Next(0, 30) + (rng.Next(3) == 0 ? "/x" + rng.Next(12) : "")).ToList();
        var order = NaturalOrder.Instance;
        foreach (var a in keys)
            foreach (var b in keys)
            {
                Assert.Equal(Math.Sign(order.Compare(a, b)), -Math.Sign(order.Compare(b, a)));
                Assert.Equal(a == b, order.Compare(a, b) == 0);
                foreach (var c in keys.Take(20))
                    if (order.Compare(a, b) <= 0 && order.Compare(b, c) <= 0) Assert.True(order.Compare(a, c) <= 0, $"{a} ≤ {b} ≤ {c}");
            }
    }
}
