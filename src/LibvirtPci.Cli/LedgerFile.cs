using System.Text;
using System.Xml;
using System.Xml.Linq;
using LibvirtPci.Stability;
using LibvirtPci.Xml;

namespace LibvirtPci.Cli;

/// <summary>
/// A sidecar ledger file (--ledger PATH): the same element as in &lt;metadata&gt;, as a document of
/// its own. Its bytes are ours, so it is read and written with System.Xml.Linq; it is rewritten
/// only when its content changes.
/// </summary>
public sealed record LedgerFile(AddressLedger Ledger, byte[]? Bytes)
{
    public static LedgerFile Read(string path)
    {
        if (!File.Exists(path)) return new LedgerFile(new AddressLedger(), null);
        var input = FileIO.Read(path);
        XDocument doc;
        try
        {
            doc = XmlDocuments.Parse(SourceText.FromBytes(input.Name, input.Bytes).Text);
        }
        catch (XmlException e)
        {
            throw new InputException(path, "LP402", "not an address ledger: " + e.Message, e.LineNumber, e.LinePosition);
        }
        var root = doc.Root!;
        if (root.Name != XName.Get("ledger", AddressLedger.Namespace))
        {
            var info = (IXmlLineInfo)root;
            throw new InputException(path, "LP402", $"not an address ledger: the root must be <ledger> in {AddressLedger.Namespace}", info.LineNumber, info.LinePosition);
        }
        return new LedgerFile(AddressLedger.Read(root, path), input.Bytes);
    }

    /// <summary>Writes the ledger when its content changed (atomically, like -i).</summary>
    public static void Write(string path, LedgerFile before, AddressLedger ledger)
    {
        if (before.Bytes is not null && ledger.SameAs(before.Ledger) && !before.Ledger.Upgraded) return;
        var bytes = new UTF8Encoding(false).GetBytes(XmlDocuments.Format(ledger.ToDocument()));
        if (before.Bytes is null)
        {
            try
            {
                using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            catch (IOException e)
            {
                throw new InputException(path, "LP105", "cannot write the ledger: " + e.Message);
            }
            return;
        }
        FileIO.WriteAtomic(path, before.Bytes, bytes);
    }
}
