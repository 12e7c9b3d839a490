using LibvirtPci.Tests.Support;
using LibvirtPci.Tools;
using LibvirtPci.Xml;
using Xunit.Abstractions;

namespace LibvirtPci.Tests.Xml;

/// <summary>
/// The one-pass parser against the reference it replaced (System.Xml's XmlReader, DTDs
/// prohibited): the same verdict and the same elements, namespaces and attribute values on the
/// corpus, on edge cases of the XML and Namespaces specifications, and on XML-aware mutants.
/// </summary>
public sealed class ParserTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Agrees_with_XmlReader_on_every_corpus_and_fixture_file()
    {
        Paths.RequireCorpus();
        var files = Paths.CorpusFiles("*.xml").Concat(Directory.GetFiles(Paths.Fixtures, "*.xml", SearchOption.AllDirectories)).ToList();
        var disagreements = files.Select(f => (f, ParserOracle.Disagreement(File.ReadAllText(f)))).Where(x => x.Item2 is not null).ToList();
        output.WriteLine($"{files.Count} files, {disagreements.Count} disagreements");
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements.Take(5).Select(d => $"{d.f}: {d.Item2}")));
    }

    public static TheoryData<string> EdgeCases() => new()
    {
        "<d/>", "<d></d>", "<d ></d >", "<d\n\tx = 'a'\r\n/>", "<?xml version='1.0'?><d/>", "<?xml version=\"1.0\" encoding='UTF-8' standalone='yes'?>\n<d/>",
        " <?xml version='1.0'?><d/>", "<?xml version='1.1'?><d/>", "<?xml encoding='UTF-8'?><d/>", "<?xml version='1.0' standalone='maybe'?><d/>",
        "<?xml version='1.0' standalone='no' encoding='UTF-8'?><d/>", "<?xml version='1.0'?><?xml version='1.0'?><d/>", "<?xml  version='1.0'  ?><d/>",
        "<?xml version='1.0'encoding='UTF-8'?><d/>", 
        "<d/><e/>", "<d/>text", "text<d/>", "<d/><!-- c --><?pi x?> \n", "<!-- c --><d/>", "<d><!-- a -- b --></d>", "<d><!-- a ---></d>", "<d><!----></d>",
        "<d><?pi?></d>", "<d><?xml x?></d>", "<d><?XmL x?></d>", "<d><?xml-stylesheet x?></d>", "<d><?a:b x?></d>", "<d><? pi?></d>", "<d><?pi\u0001?></d>",
        "<d><![CDATA[<>&]]></d>", "<d><![CDATA[]]]]></d>", "<![CDATA[x]]><d/>", "<d>]]></d>", "<d>]]&gt;</d>", "<d>a]b]]c</d>", "<d>></d>",
        "<d>&amp;&lt;&gt;&apos;&quot;</d>", "<d>&nbsp;</d>", "<d>&amp</d>", "<d>& </d>", "<d>&#65;&#x41;</d>", "<d>&#X41;</d>", "<d>&#0;</d>", "<d>&#xD800;</d>",
        "<d>&#x10FFFF;</d>", "<d>&#x110000;</d>", "<d>&#xFFFE;</d>", "<d>&#;</d>", "<d>&#x;</d>", "<d>&#99999999999999999999999;</d>", "<d>&#9;&#10;&#13;</d>",
        "<d x='&#60;'/>", "<d x='<'/>", "<d x='>'/>", "<d x='\"'/>", "<d x=\"'\"/>", "<d x='a\tb\nc\r\nd\re'/>", "<d x='&#9;&#10;'/>", "<d x=''/>",
        "<d x='1' x='2'/>", "<d x='1'y='2'/>", "<d x=1/>", "<d x/>", "<d x='1/>", "<d =''/>",
        "<d>\u0001</d>", "<d>\u0000</d>", "<d>\uFFFE</d>", "<d>\uFFFF</d>", "<d>\uD800</d>", "<d>\uDC00x</d>", "<d>\uD83D\uDE00</d>", "<d>\u0085\u2028\u007F</d>",
        "<\u00B7/>", "<d\u00B7\u0300/>", "<\u0300/>", "<d\u037E/>",
        "<1/>", "<-d/>", "<.d/>", "<_d/>", "< d/>", "<d></ d>", "<d></e>", "<d><e></d></e>", "<d>", "<d", "<d x='", "</d>", "",
        "<:d/>", "<d:/>", "<a:b:c xmlns:a='u'/>", "<p:d/>", "<p:d xmlns:p='u'/>", "<p:d xmlns:p=''/>", "<d xmlns=''/>", "<d xmlns='u'><e/></d>",
        "<d xmlns:p='u'><p:e/></d><!-- -->", "<d><p:e xmlns:p='u'/><p:f/></d>", "<d xml:lang='en'/>", "<d xmlns:xml='http://www.w3.org/XML/1998/namespace'/>",
        "<d xmlns:xml='u'/>", "<d xmlns:p='http://www.w3.org/XML/1998/namespace'/>", "<d xmlns='http://www.w3.org/XML/1998/namespace'/>",
        "<d xmlns:xmlns='u'/>", "<d xmlns='http://www.w3.org/2000/xmlns/'/>", "<d xmlns:p='http://www.w3.org/2000/xmlns/'/>",
        "<d xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>", "<d xmlns:p='u' xmlns:q='v' p:x='1' q:x='2'/>", "<d xmlns:p='u' p:x='1' x='2'/>", "<d q:x='1'/>",
        "<d xmlns:p='u' xmlns:p='v'/>", "<d xmlns='u' xmlns='v'/>", "<d a:='1'/>", "<d xmlns:='u'/>",
        "<!DOCTYPE d><d/>", "<d><!DOCTYPE d></d>", "<d><!x></d>", "<d><![CDATA[x</d>", "<d><!-- x</d>", "<d><?pi x</d>",
        "<d>" + string.Concat(Enumerable.Range(0, 40).Select(i => $"<e a{i}='{i}'/>")) + "</d>",
        "<d " + string.Join(" ", Enumerable.Range(0, 40).Select(i => $"a{i}='{i}'")) + " a7='x'/>",
        "<d " + string.Join(" ", Enumerable.Range(0, 40).Select(i => $"a{i}='{i}'")) + "/>",
    };

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void Agrees_with_XmlReader_on_an_edge_case(string text) => Assert.Null(ParserOracle.Disagreement(text));

    /// <summary>Where XmlReader is stricter than the standards, libxml2 (libvirt's parser) decides.</summary>
    [Theory]
    [InlineData("<\u2070/>", true)]
    [InlineData("<d\uD800\uDC00/>", true)]
    [InlineData("<\uD83D\uDE00/>", true)]
    [InlineData("<d x\u2070='1'/>", true)]
    [InlineData("<xmlns:d/>", false)]
    public void Where_XmlReader_departs_from_the_standard_we_follow_it(string text, bool accepted)
    {
        Assert.NotNull(ParserOracle.Disagreement(text, out bool intended));
        Assert.True(intended);
        Assert.Equal(accepted, Parses(text));
        if (accepted) Assert.Equal(0, Xmllint(text)); // libvirt's parser takes fifth-edition names
    }

    private static int Xmllint(string text)
    {
        using var dir = new TempDir();
        var path = dir.File("n.xml", System.Text.Encoding.UTF8.GetBytes(text));
        return Proc.Run("xmllint", ["--noout", path]).Code;
    }

    [SkippableFact]
    public void Agrees_with_XmlReader_on_twenty_thousand_mutants()
    {
        Paths.RequireCorpus();
        var seeds = Paths.CorpusFiles("*.xml").Take(300).Concat(Directory.GetFiles(Paths.Fixtures, "*.xml", SearchOption.AllDirectories))
            .Select(File.ReadAllText).ToList();
        var rng = new Random(20261130);
        int refused = 0, editions = 0;
        var disagreements = new List<string>();
        for (int i = 0; i < 20_000; i++)
        {
            var text = ParserOracle.Mutate(rng, seeds[rng.Next(seeds.Count)]);
            if (ParserOracle.Disagreement(text, out bool intended) is { } why)
            {
                if (intended) editions++;
                else disagreements.Add(why + "\n" + text);
            }
            else if (!Parses(text)) refused++;
        }
        output.WriteLine($"20000 mutants: {refused} refused by both, {editions} intended differences, {disagreements.Count} disagreements");
        foreach (var g in disagreements.GroupBy(d => System.Text.RegularExpressions.Regex.Replace(d.Split('\n')[0], @"\d+:\d+", "L:C")[..Math.Min(90, d.Split('\n')[0].Length)]).OrderByDescending(g => g.Count()).Take(15))
            output.WriteLine($"{g.Count(),5} {g.Key}");
        Assert.InRange(refused, 5_000, 19_000); // the mutants exercise both verdicts
        Assert.InRange(editions, 0, 400);
        Assert.True(disagreements.Count == 0, string.Join("\n---\n", disagreements.Take(3)));
    }

    private static bool Parses(string text)
    {
        try { XmlSpanParser.Parse(SourceText.FromString("t.xml", text)); return true; }
        catch (InputException) { return false; }
    }

    [Theory]
    [InlineData("<d>\n  <e>\n  </f>\n</d>", 3, 5, "end tag </f> does not match the start tag <e> at 2:3")]
    [InlineData("<d>\n  <e x='1' x='2'/>\n</d>", 2, 12, "'x' is a duplicate attribute")]
    [InlineData("<d>\n  <e x='a<b'/>\n</d>", 2, 10, "'<' is not allowed in an attribute value")]
    [InlineData("<d>\n  <e>&nbsp;</e>\n</d>", 2, 6, "entity '&nbsp;' is not defined")]
    [InlineData("<d>\n  <p:e/>\n</d>", 2, 4, "the prefix 'p' is not declared")]
    [InlineData("<d>\n  <e>\n", 3, 1, "unexpected end of input; <e> is not closed")]
    public void Refusals_say_what_and_where(string text, int line, int column, string message)
    {
        var e = Assert.Throws<InputException>(() => XmlSpanParser.Parse(SourceText.FromString("t.xml", text)));
        Assert.Equal("LP200", e.Code);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains(message, e.Message);
    }
}
