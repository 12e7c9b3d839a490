using System.Text;

namespace LibvirtPci.Xml;

/// <summary>An attribute as written: its name, its decoded value and where the raw value sits.</summary>
public readonly struct XmlAttributeSpan
{
    public required string Name { get; init; }
    public required string Value { get; init; }
    /// <summary>Offset of the first character of the attribute name.</summary>
    public required int Start { get; init; }
    /// <summary>Offset of the first character inside the quotes.</summary>
    public required int ValueStart { get; init; }
    /// <summary>Offset of the closing quote.</summary>
    public required int ValueEnd { get; init; }
    public required char Quote { get; init; }
    public string LocalName => Name.Contains(':') ? Name[(Name.IndexOf(':') + 1)..] : Name;
}

/// <summary>
/// An element with the spans of its tags in the source text: a full-fidelity view, so that
/// edits are splices of the original text and everything else stays byte-identical.
/// </summary>
public sealed class XmlElementSpan
{
    // Exact-size arrays handed over by the parser once a tag is complete (null: none).
    private XmlElementSpan[]? _children;
    private XmlAttributeSpan[]? _attributes;
    private readonly string _name = "";
    private int _colon = -1;

    public required string Name
    {
        get => _name;
        init
        {
            _name = value;
            _colon = value.IndexOf(':');
        }
    }
    public XmlElementSpan? Parent { get; init; }
    /// <summary>Offset of '&lt;' of the start tag.</summary>
    public required int Start { get; init; }
    /// <summary>Offset just after the '&gt;' of the start tag.</summary>
    public int StartTagEnd { get; internal set; }
    /// <summary>Offset of '&lt;' of the end tag (equals the start tag's '/' position when self-closing).</summary>
    public int EndTagStart { get; internal set; }
    /// <summary>Offset just after the whole element.</summary>
    public int End { get; internal set; }
    public bool IsSelfClosing { get; internal set; }
    public string NamespaceUri { get; internal set; } = "";

    public IReadOnlyList<XmlElementSpan> Children => _children ?? [];
    public IReadOnlyList<XmlAttributeSpan> Attributes => _attributes ?? [];
    internal void SetChildren(XmlElementSpan[] children) => _children = children;
    internal void SetAttributes(XmlAttributeSpan[] attributes) => _attributes = attributes;

    public string LocalName => _colon < 0 ? _name : _name[(_colon + 1)..];
    public string? Prefix => _colon < 0 ? null : _name[.._colon];

    public XmlAttributeSpan? Attribute(string name)
    {
        if (_attributes is null) return null;
        foreach (var a in _attributes)
            if (a.Name == name) return a;
        return null;
    }

    public string? Attr(string name) => Attribute(name)?.Value;

    /// <summary>First child element with this name in no namespace (libvirt's own elements).</summary>
    public XmlElementSpan? Element(string name)
    {
        if (_children is null) return null;
        foreach (var c in _children)
            if (c.Name == name && c.NamespaceUri.Length == 0) return c;
        return null;
    }

    public IEnumerable<XmlElementSpan> Elements(string name)
    {
        foreach (var c in Children)
            if (c.Name == name && c.NamespaceUri.Length == 0) yield return c;
    }

    /// <summary>The namespace prefix bound to a URI in scope here, or null (empty string = default namespace).</summary>
    public string? PrefixOf(string uri)
    {
        for (var e = this; e != null; e = e.Parent)
            foreach (var a in e.Attributes)
            {
                if (a.Value != uri) continue;
                if (a.Name == "xmlns") return "";
                if (a.Name.StartsWith("xmlns:", StringComparison.Ordinal)) return a.Name[6..];
            }
        return null;
    }

    public IEnumerable<XmlElementSpan> Descendants()
    {
        var stack = new Stack<(XmlElementSpan Element, int Next)>();
        stack.Push((this, 0));
        while (stack.Count > 0)
        {
            var (e, next) = stack.Pop();
            var children = e._children;
            if (children is null || next >= children.Length) continue;
            stack.Push((e, next + 1));
            yield return children[next];
            stack.Push((children[next], 0));
        }
    }
}

/// <summary>A parsed document: the source plus the element tree with spans.</summary>
public sealed class XmlSpanDocument
{
    public SourceText Source { get; }
    public XmlElementSpan Root { get; }

    internal XmlSpanDocument(SourceText source, XmlElementSpan root)
    {
        Source = source;
        Root = root;
    }

    /// <summary>Raw text between the tags (entities not decoded; enough for paths and names).</summary>
    public string InnerText(XmlElementSpan element) =>
        element.IsSelfClosing ? "" : Source.Text[element.StartTagEnd..element.EndTagStart].Trim();

    public (int Line, int Column) Position(XmlElementSpan element) => Source.LineColumn(element.Start);
    public (int Line, int Column) Position(XmlAttributeSpan attribute) => Source.LineColumn(attribute.Start);

    private static readonly string[] Spaces = Enumerable.Range(0, 33).Select(n => new string(' ', n)).ToArray();

    /// <summary>The whitespace from the start of the element's line up to its '&lt;' (empty if other text precedes it).</summary>
    public string IndentOf(XmlElementSpan element)
    {
        var text = Source.Text;
        int i = element.Start;
        while (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t')) i--;
        if (i > 0 && text[i - 1] != '\n' && text[i - 1] != '\r') return "";
        int length = element.Start - i;
        // Indentation repeats: the usual all-space ones are shared strings.
        return length < Spaces.Length && text.AsSpan(i, length).IndexOfAnyExcept(' ') < 0 ? Spaces[length] : text[i..element.Start];
    }

    /// <summary>Decodes the five predefined entities and character references (input was validated already).</summary>
    internal static string DecodeAttributeValue(string raw)
    {
        if (raw.IndexOfAny(['&', '\t', '\n', '\r']) < 0) return raw;
        var sb = new StringBuilder(raw.Length);
        for (int i = 0; i < raw.Length; i++)
        {
            char c = raw[i];
            if (c == '&')
            {
                int semi = raw.IndexOf(';', i);
                var name = raw[(i + 1)..semi];
                i = semi;
                switch (name)
                {
                    case "lt": sb.Append('<'); break;
                    case "gt": sb.Append('>'); break;
                    case "amp": sb.Append('&'); break;
                    case "apos": sb.Append('\''); break;
                    case "quot": sb.Append('"'); break;
                    default:
                        int code = name.StartsWith("#x", StringComparison.Ordinal)
                            ? Convert.ToInt32(name[2..], 16)
                            : int.Parse(name[1..], System.Globalization.CultureInfo.InvariantCulture);
                        sb.Append(char.ConvertFromUtf32(code));
                        break;
                }
            }
            else if (c == '\r')
            {
                sb.Append(' ');
                if (i + 1 < raw.Length && raw[i + 1] == '\n') i++;
            }
            else if (c is '\t' or '\n') sb.Append(' ');
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Escapes a value for an attribute delimited by <paramref name="quote"/>. A tab, line feed or
    /// carriage return becomes a character reference (as libvirt's libxml2 writes them): written
    /// raw, every reader would turn it into a space, and a key made from the value (a filesystem's
    /// target dir='a&amp;#10;b') would no longer be the key that wrote it.
    /// </summary>
    public static string EscapeAttributeValue(string value, char quote)
    {
        if (value.AsSpan().IndexOfAny(quote == '"' ? "&<\"\t\n\r" : "&<'\t\n\r") < 0) return value; // the usual case: nothing to escape
        var sb = new StringBuilder(value.Length + 8);
        foreach (char c in value)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '\'' when quote == '\'': sb.Append("&apos;"); break;
                case '"' when quote == '"': sb.Append("&quot;"); break;
                case '\t': sb.Append("&#9;"); break;
                case '\n': sb.Append("&#10;"); break;
                case '\r': sb.Append("&#13;"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }
}
