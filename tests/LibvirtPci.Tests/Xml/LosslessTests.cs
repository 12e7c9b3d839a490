using LibvirtPci.Tools;
using System.Text;
using LibvirtPci.Domain;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Support;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Xml;

/// <summary>The lossless layer: zero edits give the input's bytes; edits touch only what they must.</summary>
public sealed class LosslessTests
{
    public static IEnumerable<object[]> AllCorpusFiles() => Paths.CorpusCases("*.xml");

    [SkippableTheory]
    [MemberData(nameof(AllCorpusFiles))]
    public void Parse_and_zero_edits_give_identical_bytes(string file)
    {
        Paths.RequireCorpus();
        var bytes = File.ReadAllBytes(Path.Combine(Paths.Corpus, file));
        var doc = XmlSpanParser.Parse(SourceText.FromBytes(file, bytes));
        var editor = new XmlEditor(doc);
        Assert.Equal(bytes, doc.Source.Encode(editor.Apply()));
    }

    public static IEnumerable<object[]> RewriteFixtures() =>
        Directory.GetFiles(Path.Combine(Paths.Fixtures, "rewrite"), "*.in.xml").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(RewriteFixtures))]
    public void Rewrite_matches_the_approved_snapshot(string file)
    {
        var input = Path.Combine(Paths.Fixtures, "rewrite", file);
        var plan = Rewriter.Assign(SourceText.FromBytes(file, File.ReadAllBytes(input)), ToolTarget.Options);
        Approvals.Verify(input.Replace(".in.xml", ".approved.xml", StringComparison.Ordinal), plan.Bytes);
    }

    [Theory]
    [MemberData(nameof(RewriteFixtures))]
    public void Rewrite_only_inserts_unless_it_completes_a_partial_address(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Paths.Fixtures, "rewrite", file));
        var source = SourceText.FromBytes(file, bytes);
        var plan = Rewriter.Assign(source, ToolTarget.Options);
        Assert.True(plan.Changed);
        var text = source.Text;
        if (!text.Contains("<address type='pci'/>", StringComparison.Ordinal) && !text.Contains("<address type='pci' ", StringComparison.Ordinal))
            Assert.True(IsSubsequence(text, plan.Text), "every character of the input must survive, in order");
        // Same newline convention, same BOM, same quote style for new markup.
        Assert.Equal(bytes.Take(3).SequenceEqual(new byte[] { 0xEF, 0xBB, 0xBF }), plan.Bytes.Take(3).SequenceEqual(new byte[] { 0xEF, 0xBB, 0xBF }));
        if (text.Contains("\r\n", StringComparison.Ordinal))
            Assert.DoesNotContain("\n", plan.Text.Replace("\r\n", "", StringComparison.Ordinal));
        char quote = text.Contains("type=\"", StringComparison.Ordinal) ? '"' : '\'';
        Assert.Contains($"<address type={quote}pci{quote}", plan.Text);
        // And the result is complete: a second run changes nothing.
        Assert.False(Rewriter.Assign(SourceText.FromString(file, plan.Text, source.HasBom), ToolTarget.Options).Changed);
    }

    private static bool IsSubsequence(string small, string big)
    {
        int j = 0;
        foreach (char c in big)
            if (j < small.Length && small[j] == c) j++;
        return j == small.Length;
    }

    [Fact]
    public void Editor_keeps_quotes_entities_and_indentation()
    {
        var text = "<domain>\n\t<devices>\n\t\t<disk a=\"x &quot;y&quot; &apos;z&apos; a&gt;b\"/>\n\t</devices>\n</domain>\n";
        var doc = XmlSpanParser.Parse(SourceText.FromString("t.xml", text));
        var disk = doc.Root.Element("devices")!.Element("disk")!;
        Assert.Equal("x \"y\" 'z' a>b", disk.Attr("a"));
        var editor = new XmlEditor(doc);
        editor.AppendChild(disk, "<address type='pci'/>");
        editor.SetAttribute(disk, "b", "it's");
        Assert.Equal("<domain>\n\t<devices>\n\t\t<disk a=\"x &quot;y&quot; &apos;z&apos; a&gt;b\" b=\"it's\">\n\t\t\t<address type='pci'/>\n\t\t</disk>\n\t</devices>\n</domain>\n",
            editor.Apply());
    }

    [Fact]
    public void Remove_takes_the_whole_line()
    {
        var text = "<domain>\r\n  <a/>\r\n  <b/>\r\n</domain>";
        var doc = XmlSpanParser.Parse(SourceText.FromString("t.xml", text));
        var editor = new XmlEditor(doc);
        editor.Remove(doc.Root.Element("a")!);
        Assert.Equal("<domain>\r\n  <b/>\r\n</domain>", editor.Apply());
    }

    [Fact]
    public void Positions_are_line_and_column_of_the_tag()
    {
        var doc = XmlSpanParser.Parse(SourceText.FromString("t.xml", "<domain>\r\n  <devices>\r\n    <disk/>\r\n</devices></domain>"));
        Assert.Equal((3, 5), doc.Position(doc.Root.Element("devices")!.Element("disk")!));
    }

    [Fact]
    public void Namespaces_resolve_by_uri_whatever_the_prefix()
    {
        var doc = XmlSpanParser.Parse(SourceText.FromString("t.xml",
            "<domain xmlns:q='http://libvirt.org/schemas/domain/qemu/1.0'><q:commandline/><metadata><x:y xmlns:x='urn:x'/></metadata></domain>"));
        Assert.Equal(DomainDefinition.QemuNamespace, doc.Root.Children[0].NamespaceUri);
        Assert.Equal("urn:x", doc.Root.Element("metadata")!.Children[0].NamespaceUri);
        Assert.Equal("q", doc.Root.PrefixOf(DomainDefinition.QemuNamespace));
    }
}

/// <summary>Fixture-driven tests run over folders: a folder that lost files must fail here, not shrink a theory silently.</summary>
public sealed class FixtureSetTests
{
    [Theory]
    [InlineData("rewrite", "*.in.xml", 4)]
    [InlineData("rewrite", "*.approved.xml", 4)]
    [InlineData("ioreserve", "*.approved.xml", 4)]
    [InlineData("bad", "*.xml", 14)]
    [InlineData("examples", "*.xml", 1)]
    public void Every_fixture_set_is_complete(string folder, string pattern, int minimum)
    {
        var count = Directory.GetFiles(Path.Combine(Paths.Fixtures, folder), pattern).Length;
        Assert.True(count >= minimum, $"fixtures/{folder}/{pattern}: {count} files, expected at least {minimum}");
    }
}
