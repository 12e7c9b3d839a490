using System.Text;
using System.Xml;
using LibvirtPci.Domain;
using LibvirtPci.Rewrite;
using LibvirtPci.Xml;

namespace LibvirtPci.Tools;

/// <summary>
/// A structure-aware fuzzer for the rewrite: it mutates real domain XML (libvirt's corpus, our
/// fixtures) at the level of bytes and of devices — drop, duplicate, reorder, break addresses,
/// corrupt attributes, insert entities, truncate — and checks the invariants that protect a
/// user's only copy of a VM definition.
/// </summary>
public static class FuzzHarness
{
    private static readonly string[] Junk =
    {
        "&amp;", "&lt;", "&#x41;", "&#0;", "&bogus;", "<!DOCTYPE x [<!ENTITY e 'x'>]>", "]]>", "<![CDATA[<a>]]>", "<!-- -- -->",
        "\u00e9", "\uFFFE", "\t", "\r\n", "'", "\"", ">", "<", "/>", "=", "0x", "0xzz", "-1", "99999999999", "pci", "pcie-root-port",
    };

    private static readonly string[] AddressAttrs = { "domain", "bus", "slot", "function", "multifunction", "type" };

    /// <summary>One mutant of <paramref name="seed"/>.</summary>
    public static byte[] Mutate(Random rng, string seed)
    {
        string text = seed;
        int rounds = 1 + rng.Next(3);
        for (int r = 0; r < rounds; r++) text = MutateOnce(rng, text);
        var bytes = Encoding.UTF8.GetBytes(text);
        if (rng.Next(20) == 0 && bytes.Length > 0) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256); // a raw byte flip
        if (rng.Next(25) == 0) bytes = bytes[..rng.Next(bytes.Length + 1)];                                // truncation
        return bytes;
    }

    private static string MutateOnce(Random rng, string text)
    {
        var devices = DeviceSpans(text);
        switch (rng.Next(9))
        {
            case 0 when devices.Count > 0: // drop a device
                var (s0, e0) = devices[rng.Next(devices.Count)];
                return text.Remove(s0, e0 - s0);
            case 1 when devices.Count > 0: // duplicate a device
                var (s1, e1) = devices[rng.Next(devices.Count)];
                return text.Insert(e1, text[s1..e1]);
            case 2 when devices.Count > 1: // move a device to the end of <devices>
                var (s2, e2) = devices[rng.Next(devices.Count)];
                var dev = text[s2..e2];
                var without = text.Remove(s2, e2 - s2);
                int end = without.LastIndexOf("</devices>", StringComparison.Ordinal);
                return end < 0 ? without : without.Insert(end, dev);
            case 3: // break an address attribute
                var at = FindAll(text, "<address type='pci'");
                if (at.Count == 0) goto default;
                int a = at[rng.Next(at.Count)];
                var attr = AddressAttrs[rng.Next(AddressAttrs.Length)];
                var value = new[] { "0x00", "0x1f", "0x20", "0xff", "0x100", "7", "8", "on", "off", "x", "", "0x0000", "0x0001", "pci" }[rng.Next(14)];
                int close = text.IndexOf("/>", a, StringComparison.Ordinal);
                if (close < 0) goto default;
                var piece = text[a..close];
                int ai = piece.IndexOf(attr + "='", StringComparison.Ordinal);
                if (ai < 0) return text.Insert(close, $" {attr}='{value}'");
                int vs = a + ai + attr.Length + 2, ve = text.IndexOf('\'', vs);
                return ve < 0 ? text : text[..vs] + value + text[ve..];
            case 4: // strip an address (the device must be re-addressed)
                var ad = FindAll(text, "<address type='pci'");
                if (ad.Count == 0) goto default;
                int x = ad[rng.Next(ad.Count)], xe = text.IndexOf("/>", x, StringComparison.Ordinal);
                return xe < 0 ? text : text.Remove(x, xe + 2 - x);
            case 5: // corrupt an attribute value or an element name
                int q = text.IndexOf('\'', rng.Next(Math.Max(1, text.Length)));
                return q < 0 ? text : text.Insert(q + 1, Junk[rng.Next(Junk.Length)]);
            case 6: // insert markup junk anywhere
                return text.Insert(rng.Next(text.Length + 1), Junk[rng.Next(Junk.Length)]);
            case 7: // change the machine type
                return text.Replace("machine='q35'", "machine='pc'", StringComparison.Ordinal).Replace("machine='pc-q35-", "machine='pc-i440fx-", StringComparison.Ordinal);
            default: // swap two device models
                return text.Replace("model type='virtio'", "model type='e1000'", StringComparison.Ordinal);
        }
    }

    private static List<int> FindAll(string text, string what)
    {
        var list = new List<int>();
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) list.Add(i);
        return list;
    }

    /// <summary>Spans of the direct children of &lt;devices&gt;, found leniently (the text may already be broken).</summary>
    private static List<(int Start, int End)> DeviceSpans(string text)
    {
        var spans = new List<(int, int)>();
        try
        {
            var doc = XmlSpanParser.Parse(SourceText.FromString("seed", text));
            if (doc.Root.Element("devices") is { } devices)
                foreach (var c in devices.Children) spans.Add((c.Start, c.End));
        }
        catch (InputException) { }
        return spans;
    }

    /// <summary>Runs the tool on one input and returns the broken invariant, or null; <paramref name="refused"/> when the tool refused the input.</summary>
    public static string? Check(byte[] input, out bool refused)
    {
        RewritePlan plan;
        refused = false;
        try
        {
            plan = Rewriter.Assign(SourceText.FromBytes("fuzz.xml", input), ToolTarget.Options);
        }
        catch (InputException e)
        {
            refused = true;
            return e.Code.StartsWith("LP", StringComparison.Ordinal) && e.Code.Length == 5 ? null : $"bad error code {e.Code}";
        }
        catch (Exception e)
        {
            return $"unhandled {e.GetType().Name}: {e.Message}\n{e.StackTrace}";
        }
        if (!plan.Changed)
            return plan.Bytes.AsSpan().SequenceEqual(input) ? null : "unchanged input did not come back byte-identical";
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(plan.Bytes), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            while (reader.Read()) { }
        }
        catch (XmlException e)
        {
            return "output is not well-formed XML: " + e.Message;
        }
        var inputText = Encoding.UTF8.GetString(input);
        var before = DomainDefinition.Parse(SourceText.FromBytes("in.xml", input)).Devices;
        var after = DomainDefinition.Parse(SourceText.FromBytes("out.xml", plan.Bytes)).Devices;
        // Every device is still there, with its content apart from what the tool sets.
        var seen = new Dictionary<string, int>();
        foreach (var d in before)
        {
            // The n-th device with a key (mutants duplicate devices, keys and all) is the n-th in the output.
            int nth = seen[d.Key] = seen.GetValueOrDefault(d.Key) + 1;
            var same = after.Where(o => o.Kind == d.Kind && o.Key == d.Key).Skip(nth - 1).FirstOrDefault()
                ?? after.FirstOrDefault(o => o.Kind == d.Kind && o.Ordinal == d.Ordinal);
            if (same is null) return $"device {d.Key} disappeared";
            if (Strip(inputText[d.Element.Start..d.Element.End]) is var was && !IsSubsequence(was, Strip(plan.Text[same.Element.Start..same.Element.End])))
                return $"device {d.Key} changed beyond its address";
        }
        // Running the tool on its own output changes nothing (and accepts it).
        try
        {
            var again = Rewriter.Assign(SourceText.FromBytes("again.xml", plan.Bytes), ToolTarget.Options);
            return again.Changed ? "not idempotent: a second run changed the output" : null;
        }
        catch (InputException e)
        {
            return "the tool refuses its own output: " + e;
        }
    }

    /// <summary>A device's text without the address elements the tool may complete or replace.</summary>
    private static string Strip(string device)
    {
        var sb = new StringBuilder(device.Length);
        int i = 0;
        while (i < device.Length)
        {
            int a = device.IndexOf("<address", i, StringComparison.Ordinal);
            if (a < 0) { sb.Append(device, i, device.Length - i); break; }
            sb.Append(device, i, a - i);
            int e = device.IndexOf("/>", a, StringComparison.Ordinal);
            i = e < 0 ? device.Length : e + 2;
        }
        return sb.ToString();
    }

    private static bool IsSubsequence(string small, string big)
    {
        int j = 0;
        foreach (char c in big)
            if (j < small.Length && small[j] == c) j++;
        return j == small.Length;
    }

    /// <summary>What a run found: the broken invariants (input + reason), and how many inputs the tool refused.</summary>
    public sealed record Outcome(List<(byte[] Input, string Reason)> Failures, int Refused, int Count)
    {
        /// <summary>Share of inputs refused: a run whose mutants the tool nearly all refuses tests only the refusals.</summary>
        public double RefusedShare => Count == 0 ? 0 : (double)Refused / Count;
    }

    /// <summary>Fuzzes <paramref name="count"/> inputs.</summary>
    public static Outcome Run(IReadOnlyList<string> seeds, int count, int seed, Action<int>? progress = null)
    {
        var rng = new Random(seed);
        var failures = new List<(byte[], string)>();
        int refused = 0;
        for (int i = 0; i < count; i++)
        {
            var input = Mutate(rng, seeds[rng.Next(seeds.Count)]);
            if (Check(input, out bool wasRefused) is { } why) failures.Add((input, why));
            if (wasRefused) refused++;
            if (i % 10000 == 0) progress?.Invoke(i);
        }
        return new Outcome(failures, refused, count);
    }
}
