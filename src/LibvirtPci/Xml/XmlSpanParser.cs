using System.Xml;

namespace LibvirtPci.Xml;

/// <summary>
/// Safe, lossless parsing. XmlReader (DTDs prohibited, no resolver) decides whether the text
/// is well-formed and reports where it is not; a small scanner then records the span of every
/// tag and attribute so that edits can be spliced into the original text.
/// </summary>
public static class XmlSpanParser
{
    /// <summary>Nesting deeper than this is refused: domain XML is a handful of levels deep.</summary>
    public const int MaxDepth = 256;

    public static XmlSpanDocument Parse(SourceText source)
    {
        var text = source.Text;
        if (text.Trim().Length == 0)
            throw new InputException(source.Name, "LP202", "empty input: expected a <domain> element", 1, 1);
        RefuseDoctypeAndForeignEncoding(source);
        Validate(source);
        return new XmlSpanDocument(source, Scan(source));
    }

    private static void RefuseDoctypeAndForeignEncoding(SourceText source)
    {
        var text = source.Text;
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (string.CompareOrdinal(text, i, "<?xml", 0, 5) == 0)
            {
                int end = text.IndexOf("?>", i, StringComparison.Ordinal);
                if (end < 0) return;
                var decl = text[i..end];
                int enc = decl.IndexOf("encoding", StringComparison.Ordinal);
                if (enc >= 0)
                {
                    int q = decl.IndexOfAny(['"', '\''], enc);
                    int q2 = q < 0 ? -1 : decl.IndexOf(decl[q], q + 1);
                    if (q2 > q)
                    {
                        var name = decl[(q + 1)..q2].ToLowerInvariant();
                        if (name is not ("utf-8" or "utf8" or "us-ascii" or "ascii"))
                        {
                            var (l, c) = source.LineColumn(i + enc);
                            throw new InputException(source.Name, "LP201", $"encoding '{decl[(q + 1)..q2]}' is not supported; libvirt domain XML is UTF-8", l, c);
                        }
                    }
                }
                i = end + 2;
            }
            else if (string.CompareOrdinal(text, i, "<!--", 0, 4) == 0)
            {
                int end = text.IndexOf("-->", i + 4, StringComparison.Ordinal);
                if (end < 0) return;
                i = end + 3;
            }
            else if (string.CompareOrdinal(text, i, "<?", 0, 2) == 0)
            {
                int end = text.IndexOf("?>", i, StringComparison.Ordinal);
                if (end < 0) return;
                i = end + 2;
            }
            else if (string.CompareOrdinal(text, i, "<!DOCTYPE", 0, 9) == 0)
            {
                var (l, c) = source.LineColumn(i);
                throw new InputException(source.Name, "LP203",
                    "a DOCTYPE is not allowed in domain XML (refused: no DTD processing, no entity expansion, no external fetch)", l, c);
            }
            else return;
        }
    }

    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        CheckCharacters = true,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        MaxCharactersFromEntities = 1024,
    };

    private static void Validate(SourceText source)
    {
        try
        {
            using var reader = XmlReader.Create(new StringReader(source.Text), Settings);
            while (reader.Read())
            {
                if (reader.Depth > MaxDepth)
                {
                    var li = (IXmlLineInfo)reader;
                    throw new InputException(source.Name, "LP205", $"elements nested deeper than {MaxDepth} levels", li.LineNumber, li.LinePosition);
                }
            }
        }
        catch (XmlException e)
        {
            throw new InputException(source.Name, "LP200", "malformed XML: " + CleanMessage(e), e.LineNumber, e.LinePosition);
        }
    }

    /// <summary>XmlException messages repeat the position; we print it in front already.</summary>
    private static string CleanMessage(XmlException e)
    {
        var m = e.Message;
        int at = m.IndexOf(" Line ", StringComparison.Ordinal);
        return (at > 0 ? m[..at] : m).TrimEnd('.', ' ', ',');
    }

    /// <summary>Records tag and attribute spans. Runs only on text XmlReader accepted, so it can be simple.</summary>
    private static XmlElementSpan Scan(SourceText source)
    {
        var text = source.Text;
        int n = text.Length;
        int i = 0;
        XmlElementSpan? root = null;
        var stack = new Stack<XmlElementSpan>();
        while (i < n)
        {
            int lt = text.IndexOf('<', i);
            if (lt < 0) break;
            i = lt;
            if (string.CompareOrdinal(text, i, "<!--", 0, 4) == 0)
            {
                i = text.IndexOf("-->", i + 4, StringComparison.Ordinal) + 3;
            }
            else if (string.CompareOrdinal(text, i, "<![CDATA[", 0, 9) == 0)
            {
                i = text.IndexOf("]]>", i + 9, StringComparison.Ordinal) + 3;
            }
            else if (text[i + 1] == '?')
            {
                i = text.IndexOf("?>", i + 2, StringComparison.Ordinal) + 2;
            }
            else if (text[i + 1] == '/')
            {
                var el = stack.Pop();
                el.EndTagStart = i;
                i = text.IndexOf('>', i) + 1;
                el.End = i;
            }
            else
            {
                int nameStart = i + 1;
                int p = nameStart;
                while (!IsNameEnd(text[p])) p++;
                var parent = stack.Count > 0 ? stack.Peek() : null;
                var el = new XmlElementSpan { Name = text[nameStart..p], Parent = parent, Start = i };
                while (true)
                {
                    while (char.IsWhiteSpace(text[p])) p++;
                    if (text[p] == '/')
                    {
                        el.IsSelfClosing = true;
                        el.EndTagStart = p;
                        el.StartTagEnd = p + 2;
                        el.End = p + 2;
                        p += 2;
                        break;
                    }
                    if (text[p] == '>')
                    {
                        el.StartTagEnd = p + 1;
                        p++;
                        break;
                    }
                    int aStart = p;
                    while (!IsNameEnd(text[p]) && text[p] != '=') p++;
                    var aName = text[aStart..p];
                    while (text[p] != '\'' && text[p] != '"') p++;
                    char quote = text[p];
                    int vStart = p + 1;
                    int vEnd = text.IndexOf(quote, vStart);
                    el.AddAttribute(new XmlAttributeSpan
                    {
                        Name = aName,
                        Value = XmlSpanDocument.DecodeAttributeValue(text[vStart..vEnd]),
                        Start = aStart,
                        ValueStart = vStart,
                        ValueEnd = vEnd,
                        Quote = quote,
                    });
                    p = vEnd + 1;
                }
                i = p;
                parent?.AddChild(el);
                root ??= el;
                el.NamespaceUri = el.ResolveNamespace();
                if (!el.IsSelfClosing) stack.Push(el);
            }
        }
        return root ?? throw new InputException(source.Name, "LP202", "no root element", 1, 1);
    }

    private static bool IsNameEnd(char c) => c is ' ' or '\t' or '\r' or '\n' or '>' or '/' or '=';
}
