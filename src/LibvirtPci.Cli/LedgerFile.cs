using LibvirtPci.Stability;
using LibvirtPci.Xml;

namespace LibvirtPci.Cli;

/// <summary>A sidecar ledger file (--ledger PATH): the same element as in &lt;metadata&gt;, as a document of its own.</summary>
public sealed record LedgerFile(AddressLedger Ledger, byte[]? Bytes)
{
    public static LedgerFile Read(string path)
    {
        if (!File.Exists(path)) return new LedgerFile(new AddressLedger(), null);
        var input = FileIO.Read(path);
        var doc = XmlSpanParser.Parse(SourceText.FromBytes(input.Name, input.Bytes));
        if (doc.Root.LocalName != "ledger" || doc.Root.NamespaceUri != AddressLedger.Namespace)
        {
            var (l, c) = doc.Position(doc.Root);
            throw new InputException(path, "LP402", $"not an address ledger: the root must be <ledger> in {AddressLedger.Namespace}", l, c);
        }
        return new LedgerFile(AddressLedger.Read(doc, doc.Root), input.Bytes);
    }

    /// <summary>Writes the ledger when its content changed (atomically, like -i).</summary>
    public static void Write(string path, LedgerFile before, AddressLedger ledger)
    {
        if (before.Bytes is not null && ledger.SameAs(before.Ledger)) return;
        var bytes = System.Text.Encoding.UTF8.GetBytes(ledger.ToMarkup(AddressLedger.DefaultPrefix, '\'').Replace("\t", "  ") + "\n");
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
