using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Rewrite;
using LibvirtPci.Passthrough;
using LibvirtPci.Xml;

namespace LibvirtPci.Conversion;

/// <summary>What the guest will see of one device, before (pc) and after (q35).</summary>
public sealed record DeviceChange(string Key, string Kind, string? Before, string? After, string? ModelBefore, string? ModelAfter, string? Note);

/// <summary>A converted domain: the q35 text (addressed, a ledger started), and per device what the guest will see.</summary>
public sealed record Q35ConversionPlan(RewritePlan Plan, string MachineBefore, string MachineAfter, IReadOnlyList<DeviceChange> Changes, IReadOnlyList<string> Dropped)
{
    /// <summary>The pc domain with the addresses libvirt gives it, and the q35 result.</summary>
    public required DomainDefinition Before { get; init; }
    public required DomainDefinition After { get; init; }

    /// <summary>Devices the pc file gave no PCI address: their "before" is where libvirt would place them, computed.</summary>
    public IReadOnlySet<string> ComputedBefore { get; init; } = new HashSet<string>();

    public string Text => Plan.Text;
    public byte[] Bytes => Plan.Bytes;
}

/// <summary>
/// i440fx (pc) → q35, keeping the guest's devices: every device stays with its identity (MAC,
/// disk target and serial, hostdev source, boot order) and its model where q35 can host it;
/// only what q35 has not is replaced — IDE disks and cdroms go to the q35's built-in SATA (the
/// target name is kept, the drive address is libvirt's to give again), the PIIX IDE controller
/// and the pc PCI controllers go (pcie-root takes pci-root's place, pcihole64 kept). The PCI
/// addresses are then given as libvirt gives them on q35, with an address ledger started so the
/// new addresses stay. Compare virt-xml --convert-to-q35, which also swaps NIC and sound
/// models and renames disks.
/// </summary>
public static class Q35Conversion
{
    /// <summary>pc-i440fx-X.Y → pc-q35-X.Y; pc → q35; pc-i440fx-rhelX → pc-q35-rhelX; the old pc-0.x/pc-1.x (no q35 twin) → q35.</summary>
    public static string MachineFor(string machine) => machine switch
    {
        _ when machine.StartsWith("pc-i440fx-", StringComparison.Ordinal) => "pc-q35-" + machine["pc-i440fx-".Length..],
        _ => "q35",
    };

    /// <summary>The whole conversion; <see cref="Q35ConversionPlan.Before"/> is the pc domain as libvirt addresses it, for the view.</summary>
    public static Q35ConversionPlan Convert(DomainDefinition pc, RewriteOptions options)
    {
        if (pc.Family == MachineFamily.Q35) return AlreadyQ35(pc, options);
        RefuseWhatQ35CannotHost(pc);
        var edits = StageEdits(pc);
        var staged = DomainDefinition.Parse(SourceText.FromString(pc.Name, edits.Text));
        var plan = Rewriter.Assign(staged, options with { Stable = true, SidecarLedger = null });
        var after = plan.Result;
        // "before" is where libvirt puts each device on pc (a file often has no addresses yet)
        var before = Rewriter.Assign(pc, options with { Stable = false, SidecarLedger = null, IoReserve = IoReserveMode.Keep, SparePorts = null }).Result;
        // The plan is against the pc file: its bytes, encoding and "changed" are the user's file's.
        var whole = new RewritePlan { Source = pc.Document.Source, Text = plan.Text, Devices = plan.Devices, Findings = plan.Findings, Ledger = plan.Ledger };
        return new Q35ConversionPlan(whole, edits.MachineBefore, edits.MachineAfter, ChangesBetween(before, after, edits.Notes), edits.Dropped)
        {
            Before = before,
            After = after,
            ComputedBefore = pc.Devices.Where(d => d.Address.IsPciWanted).Select(d => d.Key).ToHashSet(),
        };
    }

    /// <summary>
    /// Already q35 (a conversion's own output, say): nothing to convert, and converting again
    /// gives what the conversion gave — the addresses and the ledger as assign --stable keeps them.
    /// </summary>
    private static Q35ConversionPlan AlreadyQ35(DomainDefinition q35, RewriteOptions options)
    {
        var same = Rewriter.Assign(q35, options with { Stable = true, SidecarLedger = null });
        var machine = q35.Machine ?? "q35";
        return new Q35ConversionPlan(same, machine, machine, [], [])
        {
            Before = q35,
            After = same.Result,
        };
    }

    private static void RefuseWhatQ35CannotHost(DomainDefinition pc)
    {
        var refusals = new List<Finding>();
        foreach (var d in pc.Devices)
        {
            if (d.Kind == "watchdog" && d.Model == "ib700")
                refusals.Add(At(pc, d, "LP241", "the ib700 watchdog is an ISA card libvirt allows only on i440fx; q35 cannot host it",
                    "replace it with <watchdog model='i6300esb'/> (PCI) or model='itco' (q35's own) before converting"));
            if (d.Kind == "disk" && d.Element.Element("target")?.Attr("bus") == "ide" && SataIndex(d) is < 0)
                refusals.Add(At(pc, d, "LP242", $"IDE disk '{d.TargetDev}': its target name gives no SATA unit", "name it hdX"));
        }
        if (refusals.Count > 0) throw new InputException(pc.Name, refusals);
    }

    /// <summary>The pc file edited for q35, before any q35 address: what was dropped, and a note per device that changed.</summary>
    private sealed record StagedEdits(string Text, string MachineBefore, string MachineAfter, List<string> Dropped, Dictionary<string, string> Notes);

    private static StagedEdits StageEdits(DomainDefinition pc)
    {
        var editor = new XmlEditor(pc.Document);
        var machineElement = pc.Root.Element("os")?.Element("type");
        var machineBefore = pc.Machine ?? "pc";
        var machineAfter = MachineFor(machineBefore);
        if (machineElement is not null) editor.SetAttribute(machineElement, "machine", machineAfter);
        var edits = new StagedEdits("", machineBefore, machineAfter, [], []);
        var sataUnits = SataUnits.For(pc);
        foreach (var d in pc.Devices)
        {
            StageDevice(pc, d, editor, sataUnits, edits);
            bool gone = d.ControllerType is "pci" or "ide"; // removed whole (pci-root with pcihole64 is kept, its address with it)
            if (!gone && d.Address.IsPciPresent)
                editor.Remove(d.Address.Element!);
        }
        // The pc ledger describes pc addresses; q35 starts a ledger of its own.
        if (Stability.AddressLedger.FindInMetadata(pc) is { } oldLedger)
        {
            editor.Remove(oldLedger);
            edits.Dropped.Add("the pc address ledger (a q35 one is started)");
        }
        return edits with { Text = editor.HasEdits ? editor.Apply() : pc.Document.Source.Text };
    }

    private static void StageDevice(DomainDefinition pc, Device d, XmlEditor editor, IReadOnlyDictionary<Device, (int Controller, int Unit)> sataUnits, StagedEdits edits)
    {
        switch (d)
        {
            case { ControllerType: "pci" } when d.Element.Attr("model") == "pci-root":
                if (d.Element.Element("pcihole64") is not null) editor.SetAttribute(d.Element, "model", "pcie-root");
                else { editor.Remove(d.Element); edits.Dropped.Add("controller pci-root (q35's pcie-root replaces it)"); }
                break;
            case { ControllerType: "pci" }:
                editor.Remove(d.Element);
                edits.Dropped.Add($"controller {d.Element.Attr("model") ?? "pci"} index {d.Index} (libvirt adds what q35 needs)");
                break;
            case { ControllerType: "ide" }:
                editor.Remove(d.Element);
                edits.Dropped.Add($"controller ide index {d.Index} (q35 has no IDE; its disks go to the built-in SATA)");
                break;
            case { ControllerType: "usb" } when d.Element.Attr("model") is null:
                // pc's default USB controller; on q35 no model would mean qemu-xhci, a new device to the guest
                editor.SetAttribute(d.Element, "model", "piix3-uhci");
                edits.Notes[d.Key] = "model written out (piix3-uhci, pc's default), so the guest keeps its USB controller";
                break;
            case { Kind: "disk" } when d.Element.Element("target") is { } target && target.Attr("bus") == "ide":
                editor.SetAttribute(target, "bus", "sata");
                // An explicit drive address: libvirt would derive one from the name (hda → unit 0),
                // which an existing sda may hold already ("Found duplicate drive address").
                var (controller, unit) = sataUnits[d];
                var drive = editor.EmptyElement("address", [("type", "drive"), ("controller", Num(controller)), ("bus", "0"), ("target", "0"), ("unit", Num(unit))]);
                if (d.Address.Element is { } old) editor.Replace(old, drive);
                else editor.AppendChild(d.Element, drive);
                edits.Notes[d.Key] = $"IDE → SATA (AHCI), controller {controller} unit {unit}: " + GuestOs.SataNote(pc);
                break;
        }
    }

    private static List<DeviceChange> ChangesBetween(DomainDefinition before, DomainDefinition after, Dictionary<string, string> notes)
    {
        var afterByKey = after.Devices.GroupBy(d => d.Key).ToDictionary(g => g.Key, g => g.First());
        var changes = new List<DeviceChange>();
        foreach (var d in before.Devices.Where(d => d.Kind != "controller" || d.ControllerType is not ("pci" or "ide")))
        {
            afterByKey.TryGetValue(d.Key, out var a);
            changes.Add(new DeviceChange(d.Key, d.Kind,
                d.Address.IsPciPresent ? d.Address.Pci.ToString() : null, a is { Address.IsPciPresent: true } ? a.Address.Pci.ToString() : null,
                ModelOf(d), a is null ? null : ModelOf(a), notes.GetValueOrDefault(d.Key)));
        }
        foreach (var a in after.Devices.Where(a => a.Address.IsPciPresent && !before.Devices.Any(d => d.Key == a.Key)))
            changes.Add(new DeviceChange(a.Key, a.Kind, null, a.Address.Pci.ToString(), null, ModelOf(a), "added by libvirt's rules for q35"));
        return changes;
    }

    private static string Num(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string? ModelOf(Device d) => d.Kind switch
    {
        "disk" => d.Element.Element("target")?.Attr("bus"),
        "controller" => d.Element.Attr("model") ?? (d.ControllerType == "usb" ? "piix3-uhci" : d.ControllerType), // pc's default USB controller is piix3-uhci
        _ => d.Model,
    };

    /// <summary>hda → 0, hdd → 3: libvirt's virDiskNameToIndex for the hd prefix (SATA takes the same index).</summary>
    private static int SataIndex(Device d) =>
        d.TargetDev is { Length: >= 3 } dev && dev.StartsWith("hd", StringComparison.Ordinal) && dev[2..].All(char.IsAsciiLetterLower) ? dev[2] - 'a' : -1;

    private static Finding At(DomainDefinition pc, Device d, string code, string message, string fix)
    {
        var (line, column) = pc.Position(d.Element);
        return new Finding(code, Severity.Error, $"{d.Key}: {message}", line, column, fix);
    }
}
