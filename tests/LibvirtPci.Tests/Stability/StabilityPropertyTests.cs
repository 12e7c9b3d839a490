using LibvirtPci.Tools;
using CsCheck;
using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Tests.Support;
using static LibvirtPci.Tests.Support.DomainEdit;

namespace LibvirtPci.Tests.Stability;

/// <summary>
/// Random histories of a domain (add / remove / reorder devices, unrelated edits), assigned
/// with the ledger after every step. Between steps a foreign editor acts as libvirt's own tools do
/// (virsh attach-device --config, virt-manager): it adds devices with the addresses libvirt would
/// give them, reusing released slots, and removes unused controllers — none of it is ever refused.
/// CsCheck generates the histories and shrinks a failing one.
/// </summary>
public sealed class StabilityPropertyTests
{
    private enum Op { AddNic, AddDisk, AddHostdev, AddSound, Remove, Reorder, Unrelated, AddBack, AddBackAll, ForeignAddNic, ForeignRemoveController }

    private static readonly Gen<(bool Q35, (Op Op, int Arg)[] Steps)> Histories =
        Gen.Select(Gen.Bool, Gen.Select(Gen.Enum<Op>(), Gen.Int[0, 1_000_000]).Array[30, 36]);

    [Fact]
    public void Addresses_never_move_released_slots_are_not_reused_ports_only_append()
    {
        Histories.Sample(h => Run(h.Q35, h.Steps), iter: 1000);
    }

    private static void Run(bool q35, (Op Op, int Arg)[] steps)
    {
        // On q35 a user's root port sits at 00:05.0, above the slots libvirt fills first, so that
        // plain first-fit would put new ports before it.
        var start = q35
            ? DomainXml("q35", Nic("52:54:00:00:00:01"), Disk("vda"), "<controller type='pci' index='1' model='pcie-root-port'>\n\t<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>\n</controller>")
            : DomainXml("pc", Nic("52:54:00:00:00:01"), Disk("vda"));
        // With ACPI indexes on: the ledger then gives every NIC one on every run.
        start = start.Replace("  <devices>", "  <features><acpi/></features>\n  <devices>", StringComparison.Ordinal);
        var xml = global::LibvirtPci.Rewrite.Rewriter.Assign(global::LibvirtPci.Xml.SourceText.FromString("test.xml", start), new global::LibvirtPci.Rewrite.RewriteOptions { Libvirt = ToolTarget.Libvirt90, Stable = true, AcpiIndex = true }).Text;
        var indexOwners = new Dictionary<int, string>();
        var removed = new List<string>();
        int serial = 2;
        var history = new List<string>();
        foreach (var (op, arg) in steps)
        {
            var domain = Parse(xml);
            var removable = domain.Devices.Where(d => d.Kind is "interface" or "disk" or "hostdev").ToList(); // keyed by identity, not by ordinal
            string edited = op switch
            {
                Op.AddNic => Add(xml, Nic($"52:54:00:00:{serial / 256:x2}:{serial++ % 256:x2}", new[] { "virtio", "e1000", "e1000e", "rtl8139" }[arg % 4])),
                Op.AddDisk => Add(xml, Disk(DiskName(serial++))),
                Op.AddHostdev => Add(xml, Hostdev(0x40 + serial / 32 % 64, serial++ % 32)),
                Op.AddSound => Add(xml, "<sound model='ich6'/>"),
                Op.Remove when removable.Count > 0 => RemoveAndRemember(xml, removable[arg % removable.Count], removed),
                Op.Reorder when removable.Count > 1 => MoveToEnd(xml, removable[arg % removable.Count]),
                Op.AddBack when removed.Count > 0 => AddBack(xml, removed, arg),
                Op.AddBackAll when removed.Count > 0 => AddBackAll(xml, removed),
                Op.ForeignAddNic => ForeignAdd(xml, Nic($"52:54:00:00:{serial / 256:x2}:{serial++ % 256:x2}", new[] { "virtio", "e1000e" }[arg % 2])),
                Op.ForeignRemoveController => ForeignRemoveController(xml, arg),
                _ => xml.Replace("<memory unit='MiB'>", $"<!-- edit {arg} --><memory unit='MiB'>", StringComparison.Ordinal),
            };
            history.Add($"{op}({arg})");
            var plan = Plan(edited);
            var next = plan.Text;
            Check(xml, edited, next, plan.Findings, removed, history);
            CheckAcpiIndexes(edited, next, indexOwners, history);
            xml = next;
        }
    }

    private static void Check(string before, string edited, string after, IReadOnlyList<Finding> findings, List<string> removed, List<string> history)
    {
        string Where() => "after " + string.Join(", ", history);
        // What had an address before the tool ran: the previous result as edited (a foreign editor gives addresses too).
        var b = Parse(edited).Devices.Where(d => d.Address.IsPciPresent && d.Kind != "console").GroupBy(d => d.Key).ToDictionary(g => g.Key, g => g.First().Address.Pci);
        var a = Parse(after);
        var lint = AddressLint.Check(a).Where(f => f.Severity == Severity.Error).ToList();
        Assert.True(lint.Count == 0, $"{Where()}: lint: {string.Join("; ", lint.Select(f => f.Message))}");
        var now = a.Devices.Where(d => d.Address.IsPciPresent).ToList();
        Assert.True(now.Select(d => d.Address.Pci).Distinct().Count() == now.Count, $"{Where()}: two devices share an address");
        foreach (var d in now)
        {
            if (b.TryGetValue(d.Key, out var old))
                Assert.True(old == d.Address.Pci, $"{Where()}: {d.Key} moved from {old} to {d.Address.Pci}");
        }
        // New root ports only after the existing ones (those a foreign editor added included: where
        // libvirt puts them is libvirt's business, ours come after them).
        var oldPorts = Parse(edited).Devices.Where(IsRootPort).Select(d => d.Address.Pci).ToList();
        if (oldPorts.Count > 0)
            foreach (var p in a.Devices.Where(IsRootPort).Select(d => d.Address.Pci).Except(oldPorts))
                Assert.True(p.CompareTo(oldPorts.Max()) > 0, $"{Where()}: new root port at {p} before {oldPorts.Max()}");
        // A released address goes to another device only with a warning.
        var ledger = global::LibvirtPci.Stability.AddressLedger.Read(a.Document, global::LibvirtPci.Stability.AddressLedger.FindInMetadata(a)!);
        var released = ledger.Entries.Where(e => e.Released).ToList();
        var previous = Parse(before);
        var previousLedger = global::LibvirtPci.Stability.AddressLedger.FindInMetadata(previous) is { } previousEl
            ? global::LibvirtPci.Stability.AddressLedger.Read(previous.Document, previousEl) : null;
        foreach (var d in now.Where(d => !b.ContainsKey(d.Key)))
        {
            // (a device back at its own old address is no taker, whoever else once held it)
            var taken = previousLedger?[d.Key]?.Address == d.Address.Pci ? null : released.FirstOrDefault(e => e.Address == d.Address.Pci && e.Key != d.Key);
            if (taken is not null)
                Assert.True(findings.Any(f => f.Code is "LP501" && f.Message.Contains(d.Address.Pci.ToString(), StringComparison.Ordinal)),
                    $"{Where()}: {d.Key} silently took {d.Address.Pci} released by {taken.Key}");
        }
        // A released address another editor gave away is reconciled with a warning naming both.
        foreach (var e in released.Where(e => e.TakenBy is not null))
        {
            Assert.True(now.Any(d => d.Key == e.TakenBy) || !b.ContainsKey(e.TakenBy!), $"{Where()}: taken-by names {e.TakenBy}, which is not there");
            if (previousLedger?[e.Key] is { TakenBy: null })
                Assert.True(findings.Any(f => f.Code == "LP503" && f.Message.Contains(e.Key, StringComparison.Ordinal) && f.Message.Contains(e.TakenBy!, StringComparison.Ordinal)),
                    $"{Where()}: {e.TakenBy} took {e.Address} from {e.Key} without a warning");
        }
        // A returning device gets its old address back.
        if (previousLedger is { } oldLedger)
        {
            // Only a warning that says why lets it come back elsewhere: its old address is another
            // device's now (LP504), or its bus is gone (LP505).
            // (controllers the tool adds are new ones that reuse a free index, not returning devices)
            foreach (var d in now.Where(d => !b.ContainsKey(d.Key) && !d.IsController))
                if (oldLedger[d.Key] is { Released: true } e && e.Address != d.Address.Pci)
                    Assert.True(findings.Any(f => f.Code is "LP504" or "LP505" && f.Message.Contains(d.Key + " ", StringComparison.Ordinal)),
                        $"{Where()}: {d.Key} came back at {d.Address.Pci}, not at its old {e.Address}, without a word why; findings: {string.Join(" | ", findings.Select(f => f.Code + " " + f.Message))}");
        }
        // The result is complete: a second run changes nothing.
        Assert.False(Plan(after).Changed, $"{Where()}: not idempotent");
    }

    /// <summary>Every NIC has an index; a NIC that stays keeps it; an index never goes to another NIC, even after its NIC left.</summary>
    private static void CheckAcpiIndexes(string edited, string after, Dictionary<int, string> owners, List<string> history)
    {
        string Where() => "after " + string.Join(", ", history);
        int? IndexOf(Device d) => d.Element.Element("acpi")?.Attr("index") is { } t ? int.Parse(t) : null;
        var before = Parse(edited).Devices.Where(d => d.Kind == "interface" && IndexOf(d) is not null).ToDictionary(d => d.Key, d => IndexOf(d)!.Value);
        var nics = Parse(after).Devices.Where(d => d.Kind == "interface").ToList();
        Assert.All(nics, n => Assert.True(IndexOf(n) is not null, $"{Where()}: {n.Key} has no ACPI index"));
        Assert.True(nics.Select(IndexOf).Distinct().Count() == nics.Count, $"{Where()}: two NICs share an ACPI index");
        foreach (var n in nics)
        {
            int index = IndexOf(n)!.Value;
            if (before.TryGetValue(n.Key, out int old)) Assert.True(old == index, $"{Where()}: {n.Key} changed ACPI index {old} -> {index}");
            if (owners.TryGetValue(index, out var owner)) Assert.True(owner == n.Key, $"{Where()}: ACPI index {index} was {owner}'s, now {n.Key}'s");
            owners[index] = n.Key;
        }
    }

    /// <summary>
    /// What `virsh attach-device --config` does: libvirt, which knows no ledger, addresses the new
    /// device (reusing a released slot if it is the first free one) and adds controllers it needs.
    /// Simulated with the tool's libvirt-exact allocation on the domain with the ledger hidden.
    /// </summary>
    private static string ForeignAdd(string xml, string device)
    {
        var domain = Parse(xml);
        var el = global::LibvirtPci.Stability.AddressLedger.FindInMetadata(domain)!;
        var ledgerText = xml[el.Start..el.End];
        var hidden = Add(xml.Remove(el.Start, el.End - el.Start).Insert(el.Start, "<!--ledger-->"), device);
        var libvirt = global::LibvirtPci.Rewrite.Rewriter.Assign(global::LibvirtPci.Xml.SourceText.FromString("foreign.xml", hidden), ToolTarget.Options).Text;
        return libvirt.Replace("<!--ledger-->", ledgerText, StringComparison.Ordinal);
    }

    /// <summary>What virsh detach-device of a controller does: remove a PCI controller nothing sits on (libvirt refuses one in use).</summary>
    private static string ForeignRemoveController(string xml, int arg)
    {
        var domain = Parse(xml);
        var usedBuses = domain.Devices.Where(d => d.Address.IsPciPresent).Select(d => d.Address.Pci.Bus).ToHashSet();
        // (nor function 0 of a slot whose other functions are in use: the guest would lose them all)
        var slotsInUse = domain.Devices.Where(d => d.Address.IsPciPresent && d.Address.Pci.Function > 0).Select(d => d.Address.Pci with { Function = 0 }).ToHashSet();
        var free = domain.Devices.Where(d => d.ControllerType == "pci" && d.Index is > 0 && !usedBuses.Contains(d.Index!.Value)
            && d.Element.Attr("model") is "pcie-root-port" or "pci-bridge" && !slotsInUse.Contains(d.Address.Pci)).ToList();
        return free.Count == 0 ? xml : Remove(xml, free[arg % free.Count].Key);
    }

    private static bool IsRootPort(Device d) => d.Element.Attr("model") == "pcie-root-port" && d.Address.IsPciPresent && d.Address.Pci.Bus == 0;

    private static string RemoveAndRemember(string xml, Device d, List<string> removed)
    {
        var domain = Parse(xml);
        var text = domain.Document.Source.Text;
        // Remember the device without its address, as a user re-adding it from a template would.
        var markup = text[d.Element.Start..d.Element.End];
        if (d.Address.Element is { } addr)
            markup = markup.Replace(text[addr.Start..addr.End], "", StringComparison.Ordinal);
        removed.Add(markup);
        return Remove(xml, d.Key);
    }

    private static string AddBack(string xml, List<string> removed, int arg)
    {
        var markup = removed[arg % removed.Count];
        removed.RemoveAt(arg % removed.Count);
        var key = DeviceKeyOf(markup);
        return Parse(xml).Devices.Any(d => d.Key == key) ? xml : Add(xml, markup);
    }

    /// <summary>Several devices return at once: libvirt's device order alone would shuffle their slots.</summary>
    private static string AddBackAll(string xml, List<string> removed)
    {
        for (int i = removed.Count - 1; i >= 0; i--) xml = AddBack(xml, removed, i);
        return xml;
    }

    private static string DeviceKeyOf(string markup)
    {
        var doc = global::LibvirtPci.Xml.XmlSpanParser.Parse(global::LibvirtPci.Xml.SourceText.FromString("m.xml", markup));
        return DeviceKeys.KeyOf(doc.Root, 0);
    }

    private static string MoveToEnd(string xml, Device d)
    {
        var text = Parse(xml).Document.Source.Text;
        var markup = text[d.Element.Start..d.Element.End];
        return Add(Remove(xml, d.Key), markup);
    }

    private static string DiskName(int n)
    {
        var s = "";
        for (n += 1; n > 0; n = (n - 1) / 26) s = (char)('a' + (n - 1) % 26) + s;
        return "vd" + s;
    }
}
