using System.Xml;
using System.Xml.Linq;

namespace LibvirtPci.Xml;

/// <summary>
/// The few questions identity keys ask of an element (name, attribute, child), answered both by the
/// span tree of the lossless rewrite path and by System.Xml.Linq, which reads every document whose
/// bytes need not be kept (what virsh prints, the sidecar ledger, documents compared by meaning).
/// One identity rule (<see cref="Domain.DeviceKeys"/>) then serves both.
/// </summary>
public interface IElementView
{
    /// <summary>The qualified name as written.</summary>
    string Name { get; }
    string? Attr(string name);
    IElementView? Child(string name);
}

/// <summary>An <see cref="XElement"/> as an <see cref="IElementView"/> (children without a namespace, as libvirt's).</summary>
public sealed record XElementView(XElement Element) : IElementView
{
    public string Name => Element.Name.LocalName;
    public string? Attr(string name) => Element.Attribute(name)?.Value;
    public IElementView? Child(string name) => Element.Element(name) is { } child ? new XElementView(child) : null;
}

/// <summary>System.Xml.Linq with the same refusals as the rewrite path: no DTD, no external entities.</summary>
public static class XmlDocuments
{
    private static readonly XmlReaderSettings Safe = new() { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };

    /// <summary>Parses <paramref name="text"/>, keeping line numbers for messages; throws <see cref="XmlException"/> on bad XML.</summary>
    public static XDocument Parse(string text)
    {
        using var reader = XmlReader.Create(new StringReader(text), Safe);
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
}
