using System.Xml;
using System.Xml.Linq;

namespace LibvirtPci.Xml;

/// <summary>
/// The few questions identity keys ask of an element (name, attribute, child), answered both by the
/// span tree of the lossless rewrite path and by System.Xml.Linq, which reads every document whose
/// bytes need not be kept (what virsh prints, the sidecar ledger, documents compared by meaning).
/// One identity rule (<see cref="Domain.DeviceKeys"/>) then serves both. Implemented by structs and
/// used as a generic constraint, so each side compiles to direct calls (no interface dispatch on the
/// hot path of a one-file run).
/// </summary>
public interface IElementView<TSelf> where TSelf : struct, IElementView<TSelf>
{
    /// <summary>The qualified name as written.</summary>
    string Name { get; }
    string? Attr(string name);
    bool TryChild(string name, out TSelf child);
}

/// <summary>An element of the span tree as an <see cref="IElementView{TSelf}"/>.</summary>
public readonly struct SpanElement(XmlElementSpan element) : IElementView<SpanElement>
{
    public string Name => element.Name;
    public string? Attr(string name) => element.Attr(name);

    public bool TryChild(string name, out SpanElement child)
    {
        var found = element.Element(name);
        child = found is null ? default : new SpanElement(found);
        return found is not null;
    }
}

/// <summary>An <see cref="XElement"/> as an <see cref="IElementView{TSelf}"/> (children without a namespace, as libvirt's).</summary>
public readonly struct LinqElement(XElement element) : IElementView<LinqElement>
{
    public string Name => element.Name.LocalName;
    public string? Attr(string name) => element.Attribute(name)?.Value;

    public bool TryChild(string name, out LinqElement child)
    {
        var found = element.Element(name);
        child = found is null ? default : new LinqElement(found);
        return found is not null;
    }
}

/// <summary>System.Xml.Linq with the same refusals as the rewrite path: no DTD, no external entities.</summary>
public static class XmlDocuments
{
    /// <summary>Parses <paramref name="text"/>, keeping line numbers for messages; throws <see cref="XmlException"/> on bad XML.</summary>
    public static XDocument Parse(string text)
    {
        // XmlTextReader/XmlTextWriter rather than the Create(settings) factories: the same parser,
        // and 5 fewer page faults at every start of the native binary (System.Xml is linked in for
        // migrate and --ledger only, and costs ~40 page faults per start just by being there).
        using var reader = new XmlTextReader(new StringReader(text)) { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
        try
        {
            return XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException) when (text.IndexOf("<!DOCTYPE", StringComparison.Ordinal) is var at and >= 0)
        {
            // XmlReader's refusal carries no position: say where the DOCTYPE is.
            int line = 1 + text.AsSpan(0, at).Count('\n');
            throw new XmlException("a DOCTYPE is refused (no DTD, no entities, no external fetch)", null, line, at - text.LastIndexOf('\n', Math.Max(at - 1, 0)));
        }
    }

    /// <summary>The document as text: two-space indentation, no XML declaration, "\n" line ends.</summary>
    public static string Format(XDocument document)
    {
        var text = new StringWriter { NewLine = "\n" };
        using (var writer = new XmlTextWriter(text) { Formatting = Formatting.Indented, Indentation = 2 })
            document.Root!.WriteTo(writer);
        return text.ToString().ReplaceLineEndings("\n") + "\n";
    }
}
