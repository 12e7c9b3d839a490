using System.Text;
using LibvirtPci.Stability;
using LibvirtPci.Xml;

namespace LibvirtPci.Cli;

/// <summary>
/// A sidecar ledger file (--ledger PATH): the same element as in &lt;metadata&gt;, as a document of
/// its own, read with the same parser as a domain (<see cref="XmlSpanParser"/>: no DTD, positions in
/// messages) and written in one fixed style (<see cref="AddressLedger.ToFileText"/>); it is rewritten
/// only when its content changes.
/// </summary>
public sealed record LedgerFile(AddressLedger Ledger, byte[]? Bytes)
{
    public static LedgerFile Read(string path)
    {
        if (!File.Exists(path)) return new LedgerFile(new AddressLedger(), null);
        var input = FileIO.Read(path);
        XmlSpanDocument doc;
        try
        {
            doc = XmlSpanParser.Parse(SourceText.FromBytes(input.Name, input.Bytes));
        }
        catch (InputException e)
        {
            throw new InputException(path, "LP402", "not an address ledger: " + e.Message, e.Line, e.Column);
        }
        var root = doc.Root;
        if (root.LocalName != "ledger" || root.NamespaceUri != AddressLedger.Namespace)
        {
            var (line, column) = doc.Position(root);
            throw new InputException(path, "LP402", $"not an address ledger: the root must be <ledger> in {AddressLedger.Namespace}", line, column);
        }
        return new LedgerFile(AddressLedger.Read(doc, root), input.Bytes);
    }

    /// <summary>Writes the ledger when its content changed (atomically, like -i).</summary>
    public static void Write(string path, LedgerFile before, AddressLedger ledger)
    {
        if (before.Bytes is not null && ledger.SameAs(before.Ledger) && !before.Ledger.Upgraded) return;
        var bytes = new UTF8Encoding(false).GetBytes(ledger.ToFileText());
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
