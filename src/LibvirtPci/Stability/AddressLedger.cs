using System.Text;
using LibvirtPci.Domain;
using LibvirtPci.Xml;

namespace LibvirtPci.Stability;

/// <summary>
/// One remembered address: of a present device, or released by a device that was removed.
/// <paramref name="TakenBy"/>: a released address that another device has taken since (libvirt's own
/// tools — virsh attach-device, virt-manager — reuse released slots): the history says who.
/// </summary>
public sealed record LedgerEntry(string Key, PciAddress Address, bool Released, string? TakenBy = null);

/// <summary>
/// The stability record (docs/architecture.md, "The ledger"): which device had which PCI address, and which addresses
/// were released by removed devices. Lives in the domain's &lt;metadata&gt; under our namespace
/// (libvirt keeps foreign metadata through define/dumpxml) or in a sidecar file.
/// </summary>
public sealed class AddressLedger
{
    public const string Namespace = "urn:libvirt-pci:ledger:1";
    public const string DefaultPrefix = "pci";

    private readonly SortedDictionary<string, LedgerEntry> _entries = new(StringComparer.Ordinal);

    public IReadOnlyCollection<LedgerEntry> Entries => _entries.Values;
    public LedgerEntry? this[string key] => _entries.GetValueOrDefault(key);
    public int Count => _entries.Count;

    /// <summary>Read from a 0.2.0 ledger whose keys were upgraded (<see cref="ControllerKey.Upgrade"/>): written again even when nothing else changed.</summary>
    public bool Upgraded { get; private set; }

    /// <summary>
    /// ACPI indexes given to NICs (key → index), kept after the NIC is removed: an index is never
    /// given to another NIC while the ledger remembers it, and a returning NIC gets its own back.
    /// </summary>
    public IReadOnlyDictionary<string, int> AcpiIndexes => _acpi;
    private readonly SortedDictionary<string, int> _acpi = new(StringComparer.Ordinal);

    /// <summary>This ledger with <paramref name="indexes"/> remembered as well.</summary>
    public AddressLedger WithAcpiIndexes(IEnumerable<KeyValuePair<string, int>> indexes)
    {
        var copy = new AddressLedger(_entries.Values);
        foreach (var (k, v) in _acpi.Concat(indexes)) copy._acpi[k] = v;
        return copy;
    }

    public AddressLedger() { }

    public AddressLedger(IEnumerable<LedgerEntry> entries)
    {
        foreach (var e in entries) _entries[e.Key] = e;
    }

    /// <summary>The ledger element in a domain's &lt;metadata&gt;, found by namespace URI whatever its prefix.</summary>
    public static XmlElementSpan? FindInMetadata(DomainDefinition domain) => FindInMetadata(domain.Root);

    /// <summary>The ledger element in the &lt;metadata&gt; of a domain element (what virsh printed, say).</summary>
    public static XmlElementSpan? FindInMetadata(XmlElementSpan domain) =>
        domain.Element("metadata")?.Children.FirstOrDefault(c => c.LocalName == "ledger" && c.NamespaceUri == Namespace);

    /// <summary>Reads and checks the ledger element of a domain (span tree: the rewrite path); any contradiction is an error, never silently dropped.</summary>
    public static AddressLedger Read(XmlSpanDocument document, XmlElementSpan element) =>
        FromEntries(element.Children.Select(child =>
        {
            var (line, column) = document.Position(child);
            return new RawEntry(child.NamespaceUri, child.LocalName, child.Name, child.Attr("key"), child.Attr("address"), child.Attr("taken-by"), child.Attr("index"), document.Source.Name, line, column);
        }));

    /// <summary>One entry as written, before it is checked.</summary>
    private readonly record struct RawEntry(string NamespaceUri, string LocalName, string Name, string? Key, string? Address, string? TakenBy, string? Index, string File, int Line, int Column);

    private static AddressLedger FromEntries(IEnumerable<RawEntry> raw)
    {
        var ledger = new AddressLedger();
        var byAddress = new Dictionary<PciAddress, string>();
        var upgraded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var child in raw)
        {
            InputException Bad(string message) => new(child.File, "LP401", "address ledger: " + message, child.Line, child.Column);
            if (child.NamespaceUri != Namespace || child.LocalName is not ("device" or "released" or "acpi"))
                throw Bad($"unexpected element <{child.Name}> (expected device, released or acpi in {Namespace})");
            var key = ControllerKey.Upgrade(child.Key ?? throw Bad($"<{child.Name}> without key"));
            if (child.LocalName == "acpi")
            {
                if (!int.TryParse(child.Index, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index) || index is < 1 or > AcpiIndexMax)
                    throw Bad($"<{child.Name} key='{key}'> needs index='N', 1 to {AcpiIndexMax}");
                if (ledger._acpi.ContainsKey(key)) throw Bad($"ACPI index key '{key}' appears twice");
                if (ledger._acpi.FirstOrDefault(kv => kv.Value == index) is { Key: { } holder })
                    throw Bad($"ACPI index {index} is remembered for '{holder}' and '{key}'");
                ledger._acpi[key] = index;
                continue;
            }
            var text = child.Address ?? throw Bad($"<{child.Name} key='{key}'> without address");
            if (!PciAddress.TryParse(text, out var address))
                throw Bad($"'{text}' is not a PCI address (expected DDDD:BB:SS.F)");
            bool released = child.LocalName == "released";
            if (ledger._entries.TryGetValue(key, out var same))
            {
                // 0.2.0 keyed an EHCI master by its model too, so one controller could stand twice
                // (once released, once present, each naming the other as the taker): one entry, the present one.
                if (key == child.Key && !upgraded.Contains(key)) throw Bad($"key '{key}' appears twice");
                if (same.Released && !released) byAddress.Remove(same.Address);
                else continue;
            }
            if (key != child.Key) upgraded.Add(key);
            var takenBy = child.TakenBy is null ? null : ControllerKey.Upgrade(child.TakenBy);
            if (!released && child.TakenBy is not null)
                throw Bad($"<{child.Name} key='{key}'> has taken-by, which only a released entry may have");
            if (!released)
            {
                if (byAddress.TryGetValue(address, out var other))
                    throw Bad($"two devices have address {address}: '{other}' and '{key}'");
                byAddress[address] = key;
            }
            ledger._entries[key] = new LedgerEntry(key, address, released, takenBy == key ? null : takenBy);
        }
        ledger.Upgraded = upgraded.Count > 0;
        return ledger;
    }

    /// <summary>This ledger with some keys renamed (old → new); entries and ACPI indexes alike.</summary>
    public AddressLedger Renamed(IReadOnlyDictionary<string, string> names)
    {
        if (names.Count == 0) return this;
        string N(string k) => names.GetValueOrDefault(k, k);
        var copy = new AddressLedger(_entries.Values.Select(e => e with { Key = N(e.Key), TakenBy = e.TakenBy is null ? null : N(e.TakenBy) }));
        foreach (var (k, v) in _acpi) copy._acpi[N(k)] = v;
        return copy;
    }

    /// <summary>
    /// Entries whose key is weak (an ordinal: <c>interface/virtio#0</c>, a NIC written without a MAC)
    /// and gone, while the device at exactly their address has a key the ledger does not know and is
    /// of the same kind: libvirt completed the device (a MAC, a video model), it is the same device.
    /// Ledger key → the device's key now.
    /// </summary>
    public Dictionary<string, string> CompletedKeys(IReadOnlyDictionary<PciAddress, string> holders, IReadOnlySet<string> present)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in _entries.Values)
            if (!e.Released && !present.Contains(e.Key) && DeviceKeys.IsWeak(e.Key)
                && holders.TryGetValue(e.Address, out var holder) && !_entries.ContainsKey(holder)
                && DeviceKeys.KindOf(holder) == DeviceKeys.KindOf(e.Key) && !names.ContainsValue(holder))
                names[e.Key] = holder;
        return names;
    }

    /// <summary>libvirt's limit: 1 to 16*1024-1 (formatdomain: "between 1 and (16*1024-1)").</summary>
    public const int AcpiIndexMax = 16 * 1024 - 1;

    /// <summary>
    /// The ledger as a file of its own (the sidecar, --ledger): two-space indentation, "/>" after a
    /// space, "\n" line ends, no declaration — as System.Xml's indenting writer printed it up to 0.2.0,
    /// so a sidecar that is rewritten keeps its style (but for a tab in a key, which that writer left
    /// raw and every reader then turned into a space).
    /// </summary>
    public string ToFileText() =>
        Markup(DefaultPrefix, "  ", " />", v => '"' + EscapeAsXmlWriter(v) + '"', declareNamespace: true) + "\n";

    /// <summary>The ledger element, entries sorted by key, in the given style.</summary>
    public string ToMarkup(string prefix, char quote, bool declareNamespace = true) =>
        Markup(prefix, "\t", "/>", v => quote + XmlSpanDocument.EscapeAttributeValue(v, quote) + quote, declareNamespace);

    private string Markup(string prefix, string indent, string emptyEnd, Func<string, string> quoted, bool declareNamespace)
    {
        var sb = new StringBuilder();
        sb.Append('<').Append(prefix).Append(":ledger");
        if (declareNamespace) sb.Append(" xmlns:").Append(prefix).Append('=').Append(quoted(Namespace));
        if (_entries.Count == 0 && _acpi.Count == 0) return sb.Append(emptyEnd).ToString();
        sb.Append('>');
        foreach (var e in Sorted())
            sb.Append('\n').Append(indent).Append('<').Append(prefix).Append(e.Released ? ":released" : ":device").Append(" key=").Append(quoted(e.Key))
              .Append(" address=").Append(quoted(e.Address.ToString())).Append(e.TakenBy is null ? "" : " taken-by=" + quoted(e.TakenBy)).Append(emptyEnd);
        foreach (var (key, index) in _acpi.OrderBy(kv => kv.Value))
            sb.Append('\n').Append(indent).Append('<').Append(prefix).Append(":acpi key=").Append(quoted(key))
              .Append(" index=").Append(quoted(index.ToString(System.Globalization.CultureInfo.InvariantCulture))).Append(emptyEnd);
        return sb.Append("\n</").Append(prefix).Append(":ledger>").ToString();
    }

    /// <summary>An attribute value in double quotes as System.Xml's writer escapes it (&lt; &gt; &amp; &quot;, character references for CR and LF), and a tab as a reference too.</summary>
    private static string EscapeAsXmlWriter(string value)
    {
        if (value.AsSpan().IndexOfAny("<>&\"\t\r\n") < 0) return value;
        var sb = new StringBuilder(value.Length + 8);
        foreach (char c in value)
            sb.Append(c switch { '<' => "&lt;", '>' => "&gt;", '&' => "&amp;", '"' => "&quot;", '\t' => "&#x9;", '\r' => "&#xD;", '\n' => "&#xA;", _ => c.ToString() });
        return sb.ToString();
    }

    /// <summary>Present entries, then released ones, each in the natural order of their keys (controller/pci/2 before controller/pci/10).</summary>
    private IEnumerable<LedgerEntry> Sorted() => _entries.Values.OrderBy(e => e.Released).ThenBy(e => e.Key, NaturalOrder.Instance);

    /// <summary>True when both ledgers hold the same entries (then the stored bytes are left alone).</summary>
    public bool SameAs(AddressLedger? other) =>
        other is not null && other._entries.Count == _entries.Count && _entries.All(kv => other._entries.TryGetValue(kv.Key, out var o) && o == kv.Value)
        && other._acpi.Count == _acpi.Count && _acpi.All(kv => other._acpi.TryGetValue(kv.Key, out var i) && i == kv.Value);
}
