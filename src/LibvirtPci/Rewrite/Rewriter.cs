using System.Text;
using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Limits;
using LibvirtPci.Passthrough;
using LibvirtPci.Stability;
using LibvirtPci.Xml;

namespace LibvirtPci.Rewrite;

/// <summary>
/// parse → model → allocate → edits. Writes only what libvirt would add: &lt;address&gt;
/// elements inside devices, multifunction='on', controller &lt;model name&gt;/&lt;target&gt;
/// defaults, and whole new devices/controllers, each in the file's own style.
/// </summary>
public static class Rewriter
{
    /// <summary>libvirt's device order inside &lt;devices&gt; (virDomainDefFormat): new elements go after their kind.</summary>
    private static readonly string[] DeviceOrder =
    {
        "emulator", "disk", "controller", "lease", "filesystem", "interface", "smartcard", "serial", "parallel", "console",
        "channel", "input", "tpm", "graphics", "sound", "audio", "video", "hostdev", "redirdev", "redirfilter", "hub",
        "watchdog", "memballoon", "rng", "nvram", "panic", "shmem", "memory", "iommu", "vsock", "crypto",
    };

    /// <summary>Lint findings that libvirt itself would refuse at define time: assign stops on them.</summary>
    private static readonly HashSet<string> RefusedByLibvirt = new(StringComparer.Ordinal) { "LP211", "LP301", "LP303", "LP305", "LP309" };

    /// <summary>
    /// What `lint` reports for a domain as written: its addresses' problems as libvirt would complete
    /// the domain (what libvirt refuses outright, or its allocator's refusal, as they are), then the
    /// firmware's limits.
    /// </summary>
    public static IReadOnlyList<Finding> Lint(DomainDefinition domain, RewriteOptions options)
    {
        var raw = AddressLint.Check(domain);
        IReadOnlyList<Finding> addresses = raw;
        if (!raw.Any(f => f.Severity == Severity.Error && RefusedByLibvirt.Contains(f.Code)))
        {
            try { addresses = AddressLint.Check(domain, LibvirtAllocator.Assign(domain, options.Caps, new AllocationPolicy { Profile = options.Libvirt })); }
            catch (InputException e) { addresses = [.. raw, .. e.Errors]; }
        }
        return [.. addresses, .. IoSpaceBudget.Analyze(domain, options.Firmware)?.Findings ?? []];
    }

    public static RewritePlan Assign(SourceText source, RewriteOptions options) =>
        Assign(DomainDefinition.Parse(source), options);

    /// <summary>
    /// The rewrite, pass by pass over one editor: refuse what libvirt refuses; allocate (with the
    /// ledger and ACPI indexes when one is in use); write the addresses and new controllers; then on
    /// the addressed text the io-reserve passthrough and the firmware's limits.
    /// </summary>
    public static RewritePlan Assign(DomainDefinition domain, RewriteOptions options)
    {
        var refused = AddressLint.Check(domain).Where(f => f.Severity == Severity.Error && RefusedByLibvirt.Contains(f.Code)).ToList();
        if (refused.Count > 0) throw new InputException(domain.Name, refused); // every one, in line order
        var editor = new XmlEditor(domain.Document);
        var (result, newLedger, findings) = Allocate(domain, options, editor);
        // The addresses as libvirt completes them: a bus libvirt adds, a function 0 it fills.
        findings = [.. AddressLint.Check(domain, result), .. findings];
        var outcomes = WriteAddresses(editor, domain, result);
        var text = editor.HasEdits ? editor.Apply() : domain.Document.Source.Text;
        // (q35 only: the I/O budget is a q35 problem, so a pc rewrite is not parsed again)
        if (domain.Family != MachineFamily.Q35 && options.IoReserve == IoReserveMode.Keep)
            return new RewritePlan { Source = domain.Document.Source, Text = text, Devices = outcomes, Findings = findings, Ledger = newLedger, Parsed = editor.HasEdits ? null : domain };
        (text, findings, var addressed) = AfterAddressing(domain, text, options, findings);
        return new RewritePlan { Source = domain.Document.Source, Text = text, Devices = outcomes, Findings = findings, Ledger = newLedger, Parsed = addressed };
    }

    /// <summary>libvirt's allocation, through the ledger when the domain has one (or one is asked for), with ACPI indexes; the ledger's element is written.</summary>
    private static (AllocationResult Result, AddressLedger? Ledger, IReadOnlyList<Finding> Findings) Allocate(DomainDefinition domain, RewriteOptions options, XmlEditor editor)
    {
        var ledgerElement = AddressLedger.FindInMetadata(domain);
        var ledger = options.SidecarLedger ?? (ledgerElement is not null ? AddressLedger.Read(domain.Document, ledgerElement) : options.Stable || options.AcpiIndex ? new AddressLedger() : null);
        if (ledger is null)
            return (LibvirtAllocator.Assign(domain, options.Caps, new AllocationPolicy { SparePorts = options.SparePorts, Profile = options.Libvirt }), null, []);
        var stable = StabilityPlanner.Allocate(domain, options.Caps, ledger, options.SparePorts, options.Libvirt);
        var newLedger = stable.Ledger;
        IReadOnlyList<Finding> findings = stable.Findings;
        if (options.AcpiIndex || ledger.AcpiIndexes.Count > 0) // a ledger that holds indexes keeps giving them
        {
            var (remembered, acpiFindings) = WriteAcpiIndexes(domain, options, editor, ledger, stable);
            newLedger = newLedger.WithAcpiIndexes(remembered);
            findings = [.. findings, .. acpiFindings];
        }
        if (options.SidecarLedger is null && !(ledgerElement is not null && newLedger.SameAs(ledger) && !ledger.Upgraded))
            WriteLedger(editor, domain, ledgerElement, newLedger);
        return (stable.Result, newLedger, findings);
    }

    /// <summary>An &lt;acpi index&gt; for each NIC on PCI, planned under the keys devices have now (a NIC libvirt gave a MAC), remembered under the ledger's.</summary>
    private static (IEnumerable<KeyValuePair<string, int>> Remember, IReadOnlyList<Finding> Findings) WriteAcpiIndexes(
        DomainDefinition domain, RewriteOptions options, XmlEditor editor, AddressLedger ledger, StableAllocation stable)
    {
        var onPci = stable.Result.Inventory.IterationOrder().Where(d => d.Source is { Kind: "interface" } && d.IsPciPresent && d.AddressType == "pci").Select(d => d.Source!).ToHashSet();
        var acpi = AcpiIndexPlanner.Plan(domain, ledger.Renamed(stable.Completed), options.Libvirt, onPci);
        foreach (var (nic, index) in acpi.ToWrite)
            editor.AppendChild(nic.Element, editor.EmptyElement("acpi", [("index", index.ToString(System.Globalization.CultureInfo.InvariantCulture))]));
        var back = StabilityPlanner.Inverse(stable.Completed);
        return (acpi.Remember.Select(kv => KeyValuePair.Create(back.GetValueOrDefault(kv.Key, kv.Key), kv.Value)).ToList(), acpi.Findings);
    }

    /// <summary>Every address and controller detail into the existing devices, the devices libvirt adds after their kind; one outcome per PCI device.</summary>
    private static List<DeviceOutcome> WriteAddresses(XmlEditor editor, DomainDefinition domain, AllocationResult result)
    {
        var outcomes = new List<DeviceOutcome>();
        foreach (var d in result.Inventory.IterationOrder())
        {
            if (d.Source is null) continue;
            EditExisting(editor, result, d);
            if (d.IsPciPresent || d.Origin != AddressOrigin.NotPci)
                outcomes.Add(Outcome(domain, d, false));
        }
        if (domain.DevicesElement is { } devices)
        {
            // Stable order by libvirt's device order, so that new controllers precede a new memballoon
            // when both land after the same existing element.
            var lastOfRank = LastChildOfEachRank(devices);
            foreach (var d in result.Added.OrderBy(d => Array.IndexOf(DeviceOrder, d.Kind)))
                InsertNew(editor, devices, lastOfRank, Markup(editor, result, d), d.Kind);
        }
        else if (result.Added.Count > 0)
        {
            // No <devices> at all: libvirt writes one after the lifecycle/pm elements.
            var body = string.Join("\n", result.Added.Select(d => Markup(editor, result, d)).SelectMany(m => m.Split('\n')).Select(l => "\t" + l));
            InsertRootChild(editor, domain, "<devices>\n" + body + "\n</devices>");
        }
        outcomes.AddRange(result.Added.Select(d => Outcome(domain, d, true)));
        return outcomes;
    }

    /// <summary>On the addressed text: the io-reserve passthrough, then the firmware's limits (spare ports never being what breaks the boot).</summary>
    private static (string Text, IReadOnlyList<Finding> Findings, DomainDefinition Addressed) AfterAddressing(DomainDefinition domain, string text, RewriteOptions options, IReadOnlyList<Finding> findings)
    {
        var addressed = ReferenceEquals(text, domain.Document.Source.Text) ? domain : DomainDefinition.Parse(SourceText.FromString(domain.Name, text));
        if (options.IoReserve != IoReserveMode.Keep)
        {
            var stage2 = new XmlEditor(addressed.Document);
            findings = [.. findings, .. IoReservePlanner.Apply(stage2, addressed, options.IoReserve, options.Libvirt)];
            if (stage2.HasEdits)
            {
                text = stage2.Apply();
                addressed = DomainDefinition.Parse(SourceText.FromString(domain.Name, text));
            }
        }
        if (IoSpaceBudget.Analyze(addressed, options.Firmware) is not { } io) return (text, findings, addressed);
        if (io.BootFails && options.SparePorts is > 0)
        {
            var without = Assign(domain, options with { SparePorts = null });
            static bool StopsTheBoot(Finding f) => f.Code is "LP601" or "LP602" && f.Severity == Severity.Error;
            if (!without.Findings.Any(StopsTheBoot))
                throw new InputException(domain.Name, "LP226", $"--spare-ports {options.SparePorts} would break the boot: {io.Findings.First(StopsTheBoot).Message}; ask for fewer spare ports");
        }
        return (text, [.. findings, .. io.Findings], addressed);
    }

    private static DeviceOutcome Outcome(DomainDefinition domain, PlannedDevice d, bool added) => new(
        d.Key, d.Kind, d.IsPciPresent ? d.Pci.ToString() : null, d.Multifunction == true,
        d.Origin switch { AddressOrigin.Kept => "kept", AddressOrigin.Assigned => "assigned", _ => "none" },
        added, d.Reason, d.Source is null ? 0 : domain.Position(d.Source.Element).Line);

    private static string AddressMarkup(XmlEditor editor, PlannedDevice d) =>
        editor.EmptyElement("address", d.Pci.XmlAttributes(d.Multifunction == true));

    private static void EditExisting(XmlEditor editor, AllocationResult result, PlannedDevice d)
    {
        var el = d.Source!.Element;
        var original = d.Source.Address;
        var newChildren = new List<string>();
        var beforeAddress = new List<string>();

        if (d.Kind == "controller" && d.Source.Index is null && d.Index >= 0)
            editor.SetAttribute(el, "index", d.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (d.IsPciController)
        {
            if (result.ControllerModelNames.TryGetValue(d, out var name))
            {
                if (el.Element("model") is { } model) editor.SetAttribute(model, "name", name); // a <model> without name gets one
                else beforeAddress.Add(editor.EmptyElement("model", [("name", name)]));
            }
            if (result.ControllerTargets.TryGetValue(d, out var target))
            {
                if (el.Element("target") is { } t)
                    foreach (var (n, v) in target) editor.SetAttribute(t, n, v);
                else
                    beforeAddress.Add(editor.EmptyElement("target", target));
            }
        }

        bool assigned = d.Origin == AddressOrigin.Assigned && d.IsPciPresent;
        if (assigned && original.Element is { } partial)
        {
            foreach (var m in beforeAddress) editor.InsertBefore(partial, m);
            editor.Replace(partial, AddressMarkup(editor, d));
            return;
        }
        if (!assigned && original.IsPciPresent && d.Multifunction == true && original.Multifunction is null)
            editor.SetAttribute(original.Element!, "multifunction", "on");
        if (!assigned && original.Element is { } existing && beforeAddress.Count > 0)
        {
            foreach (var m in beforeAddress) editor.InsertBefore(existing, m);
            return;
        }
        newChildren.AddRange(beforeAddress);
        if (assigned) newChildren.Add(AddressMarkup(editor, d));
        if (newChildren.Count > 0) editor.AppendChild(el, string.Join("\n", newChildren));
    }

    /// <summary>The whole element for a device libvirt adds, as libvirt formats it.</summary>
    private static string Markup(XmlEditor editor, AllocationResult result, PlannedDevice d)
    {
        var children = new List<string>();
        string open;
        switch (d.Kind)
        {
            case "controller":
                var attrs = new List<(string, string)> { ("type", d.ControllerType!), ("index", d.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
                if (d.Model is not null) attrs.Add(("model", d.Model));
                open = editor.EmptyElement("controller", attrs)[..^2];
                if (d.MasterStartPort is { } port) children.Add(editor.EmptyElement("master", [("startport", port.ToString(System.Globalization.CultureInfo.InvariantCulture))]));
                if (result.ControllerModelNames.TryGetValue(d, out var name)) children.Add(editor.EmptyElement("model", [("name", name)]));
                if (result.ControllerTargets.TryGetValue(d, out var target)) children.Add(editor.EmptyElement("target", target));
                break;
            case "memballoon":
                open = editor.EmptyElement("memballoon", [("model", d.Model ?? "virtio")])[..^2];
                break;
            case "video":
                open = "<video";
                var model = new List<(string, string)> { ("type", d.Model ?? "cirrus") };
                if (d.Model is "cirrus" or "vga") model.Add(("vram", "16384"));
                model.Add(("heads", "1"));
                model.Add(("primary", "yes"));
                children.Add(editor.EmptyElement("model", model));
                break;
            default:
                open = "<" + d.Kind;
                break;
        }
        if (d.IsPciPresent) children.Add(AddressMarkup(editor, d));
        if (children.Count == 0) return open + "/>";
        var sb = new StringBuilder(open).Append('>');
        foreach (var c in children) sb.Append("\n\t").Append(c);
        return sb.Append("\n</").Append(d.Kind).Append('>').ToString();
    }

    /// <summary>Replaces the ledger element, or adds it to &lt;metadata&gt; (creating that after name/uuid/title/description).</summary>
    private static void WriteLedger(XmlEditor editor, DomainDefinition domain, XmlElementSpan? existing, AddressLedger ledger)
    {
        if (existing is not null)
        {
            // In the element's own style (libvirt re-quotes foreign metadata with double quotes), so
            // that a diff shows only the entries that changed.
            var quote = existing.Children.SelectMany(c => c.Attributes).Concat(existing.Attributes).Select(a => (char?)a.Quote).FirstOrDefault() ?? editor.Quote;
            editor.Replace(existing, ledger.ToMarkup(existing.Prefix ?? AddressLedger.DefaultPrefix, quote));
            return;
        }
        var markup = ledger.ToMarkup(AddressLedger.DefaultPrefix, editor.Quote);
        if (domain.Root.Element("metadata") is { } metadata)
        {
            editor.AppendChild(metadata, markup);
            return;
        }
        var block = "<metadata>\n" + string.Join("\n", markup.Split('\n').Select(l => "\t" + l)) + "\n</metadata>";
        var after = domain.Root.Children.LastOrDefault(c => c.NamespaceUri.Length == 0 && c.Name is "name" or "uuid" or "genid" or "title" or "description");
        if (after is not null) editor.InsertAfter(after, block);
        else editor.AppendChild(domain.Root, block);
    }

    /// <summary>Elements libvirt writes before &lt;devices&gt;.</summary>
    private static readonly HashSet<string> BeforeDevices = new(StringComparer.Ordinal)
    {
        "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory", "currentMemory", "blkiotune",
        "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads", "iothreadids", "cputune", "numatune", "resource",
        "sysinfo", "bootloader", "bootloader_args", "os", "idmap", "features", "cpu", "clock", "on_poweroff",
        "on_reboot", "on_crash", "on_lockfailure", "pm", "perf", "keywrap", "launchSecurity",
    };

    private static void InsertRootChild(XmlEditor editor, DomainDefinition domain, string markup)
    {
        var after = domain.Root.Children.LastOrDefault(c => c.NamespaceUri.Length == 0 && BeforeDevices.Contains(c.Name));
        if (after is not null) editor.InsertAfter(after, markup);
        else editor.AppendChild(domain.Root, markup);
    }

    /// <summary>Inserts after the last existing device of the same or an earlier kind (libvirt's order), else first.</summary>
    /// <summary>
    /// For each rank of <see cref="DeviceOrder"/>, the last child of &lt;devices&gt; of that kind:
    /// found once, so that placing each new device does not walk every device again (thousands
    /// of new bridges behind thousands of devices made that quadratic).
    /// </summary>
    private static XmlElementSpan?[] LastChildOfEachRank(XmlElementSpan devices)
    {
        var last = new XmlElementSpan?[DeviceOrder.Length];
        foreach (var c in devices.Children)
            if (c.NamespaceUri.Length == 0 && Array.IndexOf(DeviceOrder, c.Name) is >= 0 and var r) last[r] = c;
        return last;
    }

    /// <summary>A new device goes after the last existing device of its kind or an earlier kind.</summary>
    private static void InsertNew(XmlEditor editor, XmlElementSpan devices, XmlElementSpan?[] lastOfRank, string markup, string kind)
    {
        XmlElementSpan? after = null;
        for (int r = Array.IndexOf(DeviceOrder, kind); r >= 0; r--)
            if (lastOfRank[r] is { } c && (after is null || c.Start > after.Start)) after = c;
        if (after is not null) editor.InsertAfter(after, markup);
        else if (devices.Children.Count > 0) editor.InsertBefore(devices.Children[0], markup);
        else editor.AppendChild(devices, markup);
    }
}
