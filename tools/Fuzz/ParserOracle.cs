using System.Text;
using System.Xml;
using LibvirtPci;
using LibvirtPci.Xml;

namespace LibvirtPci.Tools;

/// <summary>
/// Holds our one-pass parser to System.Xml's XmlReader (DTDs prohibited, no resolver), the
/// reference it replaced: on any text both must accept or both refuse, and where both accept
/// they must see the same elements, namespaces and decoded attribute values in the same order.
/// The only intended differences are our policy refusals: a non-UTF-8 encoding declaration
/// (LP201) and nesting deeper than 256 levels (LP205).
/// </summary>
public static class ParserOracle
{
    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        CheckCharacters = true,
        IgnoreWhitespace = true,
    };

    /// <summary>
    /// Null when both parsers agree on <paramref name="text"/> (as a file would carry it: UTF-8,
    /// so a lone surrogate arrives as U+FFFD); else what differs. <paramref name="intended"/> is
    /// set when they differ only where we follow the standards more closely than XmlReader:
    /// XML 1.0 fifth-edition name characters (as libxml2, libvirt's parser, does) and the
    /// Namespaces rule that no element has the prefix xmlns.
    /// </summary>
    public static string? Disagreement(string text, out bool intended)
    {
        intended = false;
        text = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
        var theirs = ReferenceView(text, out var theirError);
        List<string>? ours = null;
        string? ourError = null;
        try
        {
            ours = View(XmlSpanParser.Parse(SourceText.FromString("t.xml", text)));
        }
        catch (InputException e) when (e.Code is "LP201" or "LP205")
        {
            return null; // policy, not well-formedness
        }
        catch (InputException e)
        {
            ourError = $"{e.Code} {e.Line}:{e.Column} {e.Message}";
            intended = e.Message.Contains("cannot have the prefix 'xmlns'", StringComparison.Ordinal);
        }
        catch (Exception e)
        {
            return "our parser crashed: " + e;
        }
        if (ours is null && theirs is null) return null;
        if (ours is null) return $"we refuse ({ourError}), XmlReader accepts";
        if (theirs is null)
        {
            intended = NonAsciiNear(text, theirError!);
            return $"we accept, XmlReader refuses ({theirError!.Message})";
        }
        for (int i = 0; i < Math.Max(ours.Count, theirs.Count); i++)
        {
            var a = i < ours.Count ? ours[i] : "(none)";
            var b = i < theirs.Count ? theirs[i] : "(none)";
            if (a != b) return $"element {i}: we see {a}, XmlReader sees {b}";
        }
        return null;
    }

    public static string? Disagreement(string text) => Disagreement(text, out _);

    /// <summary>XmlReader stopped at a name holding a non-ASCII character: the name-class editions differ.</summary>
    private static bool NonAsciiNear(string text, XmlException e)
    {
        var src = SourceText.FromString("t.xml", text);
        int at = src.Offset(e.LineNumber, e.LinePosition);
        for (int i = Math.Max(0, at - 2); i < Math.Min(text.Length, at + 3); i++)
            if (text[i] >= 0x80) return true;
        return false;
    }

    private static List<string>? ReferenceView(string text, out XmlException? error)
    {
        error = null;
        var view = new List<string>();
        try
        {
            using var reader = XmlReader.Create(new StringReader(text), Settings);
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element) continue;
                var sb = new StringBuilder().Append(reader.Name).Append(" {").Append(reader.NamespaceURI).Append('}');
                for (bool more = reader.MoveToFirstAttribute(); more; more = reader.MoveToNextAttribute())
                    sb.Append(' ').Append(reader.Name).Append("=[").Append(reader.Value).Append(']');
                view.Add(sb.ToString());
            }
            return view;
        }
        catch (XmlException e)
        {
            error = e;
            return null;
        }
    }

    private static List<string> View(XmlSpanDocument doc)
    {
        var view = new List<string>();
        foreach (var el in new[] { doc.Root }.Concat(doc.Root.Descendants()))
        {
            var sb = new StringBuilder().Append(el.Name).Append(" {").Append(el.NamespaceUri).Append('}');
            foreach (var a in el.Attributes) sb.Append(' ').Append(a.Name).Append("=[").Append(a.Value).Append(']');
            view.Add(sb.ToString());
        }
        return view;
    }

    private static readonly string[] Junk =
    {
        "&", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#60;", "&#x3C;", "&#x3c;", "&#X3C;", "&#0;", "&#9;", "&#x110000;", "&#xD800;",
        "&#xFFFE;", "&#99999999999999999999;", "&#;", "&#x;", "&foo;", "&amp", "& ", "&a:b;", "]]>", "]]", "]", "<!--", "-->", "--",
        "<!-- x -->", "<!---->", "<!-- a --->", "<?pi x?>", "<?pi?>", "<?a:b?>", "<?xml version='1.0'?>", "<?XML x?>", "<?xml-stylesheet x?>",
        "<?pix?>", "<?pi\tx?>", "<![CDATA[x]]>", "<![CDATA[", "<![CDATA[]]]]>", "<!DOCTYPE d>", "<!ELEMENT", "<!x>",
        " xmlns:a='u'", " xmlns:a=''", " xmlns=''", " xmlns='u'", " xmlns:xml='u'", " xmlns:xml='http://www.w3.org/XML/1998/namespace'",
        " xmlns:b='http://www.w3.org/XML/1998/namespace'", " xmlns:xmlns='u'", " xmlns='http://www.w3.org/2000/xmlns/'", " xmlns:a='http://www.w3.org/2000/xmlns/'",
        " a:b='1'", " b:c='1'", " xml:lang='en'", " xmlns:b='u'", " x='1'", " x=\"1\"", " x=1", " x", " x = '1' ", "a:b", ":", "a:", ":a", "a::b",
        "<a:b/>", "<xmlns:a/>", "<xml:a/>", "<a>", "</a>", "<a/>", "<", ">", "/>", "'", "\"", "=", "\u0001", "\u0000", "\uFFFE", "\uFFFF",
        "\uD800", "\uDC00", "\uD83D\uDE00", "\u00E9", "\u00B7", "\u0300", "\u037E", "\u2070", "\t", "\r", "\n", "\r\n", " ", "-", ".", "1",
        "<1/>", "<-a/>", "<.a/>", "<_a/>", "< a/>", "</ a>", "<a >", "</a >", "<a/ >", "x='1'y='2'", "\u2028", "\u0085", "\u007F", "<a\u00E9/>",
        "<a\uD83D\uDE00/>", "<\u00B7/>", "<a x='<'/>", "<a x='&#60;'/>", "<a x='\t'/>", "<a x='a\r\nb'/>", "<a x='1' x='2'/>",
        "<p:a xmlns:p='u' p:x='1' xmlns:q='u' q:x='2'/>", "<a xmlns:p='u' p:x='1' p:y='2'/>",
    };

    /// <summary>An XML-aware mutant: markup, references, names and characters where they do and do not belong.</summary>
    public static string Mutate(Random rng, string text)
    {
        int rounds = 1 + rng.Next(2);
        for (int r = 0; r < rounds; r++)
        {
            int at = rng.Next(text.Length + 1);
            switch (rng.Next(6))
            {
                case 0:
                case 1:
                    text = text.Insert(at, Junk[rng.Next(Junk.Length)]);
                    break;
                case 2 when at < text.Length:
                    text = text.Remove(at, Math.Min(text.Length - at, 1 + rng.Next(8)));
                    break;
                case 3 when at < text.Length:
                    text = text[..at] + Junk[rng.Next(Junk.Length)] + text[(at + 1)..];
                    break;
                case 4:
                    // Inside a tag, right after its name: where attributes and namespaces go.
                    int lt = text.IndexOf('<', at);
                    if (lt < 0 || lt + 1 >= text.Length || text[lt + 1] is '/' or '!' or '?') goto default;
                    int nameEnd = lt + 1;
                    while (nameEnd < text.Length && !char.IsWhiteSpace(text[nameEnd]) && text[nameEnd] is not ('>' or '/')) nameEnd++;
                    text = text.Insert(nameEnd, Junk[rng.Next(Junk.Length)]);
                    break;
                default:
                    int q = text.IndexOfAny(['\'', '"'], at);
                    if (q >= 0) text = text[..q] + (text[q] == '\'' ? '"' : '\'') + text[(q + 1)..];
                    break;
            }
        }
        if (rng.Next(50) == 0) text = text[..rng.Next(text.Length + 1)];
        return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)); // as a file carries it

    }
}
