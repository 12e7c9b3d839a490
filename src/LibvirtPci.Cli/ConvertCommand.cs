using System.Text;
using LibvirtPci.Addressing;
using LibvirtPci.Conversion;
using LibvirtPci.Domain;
using LibvirtPci.Guest;
using LibvirtPci.Passthrough;
using LibvirtPci.Rewrite;
using LibvirtPci.Xml;
using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

/// <summary>
/// `libvirt-pci convert --to q35 FILE…`: an i440fx domain becomes q35 keeping the guest's devices
/// (see <see cref="Q35Conversion"/>), with a before/after view of what the guest will see. The
/// view goes to stdout, or to stderr when stdout carries the converted XML (one file, no -i).
/// </summary>
internal static class ConvertCommand
{
    public const string Help = """

Every device keeps its identity (MAC, disk target and serial, hostdev source, boot order) and,
where q35 can host it, its model: IDE disks and cdroms move to q35's SATA (the target name is
kept), the PIIX IDE controller and pc's PCI controllers go, pc's default USB controller is
written out so it stays. The machine becomes the matching pc-q35 version; addresses are given
as libvirt gives them on q35, and an address ledger is started. What q35 cannot host (the ISA
ib700 watchdog) is refused in words. Compare: virt-xml --convert-to-q35 also replaces NIC and
sound models and renames disks.
""";

    public static void Define(CommandLineApplication cmd, CommandContext ctx)
    {
        var to = cmd.Valued("--to <MACHINE>", "the machine family to convert to: q35 (the only one)");
        var files = cmd.Files("FILE", "pc (i440fx) domain XML files; - or nothing for stdin");
        var inPlace = cmd.Flag("-i|--in-place", "rewrite the files themselves (atomic)");
        var check = cmd.Flag("--check", "write nothing; exit 1 if a file would change");
        var diff = cmd.Flag("--diff", "write nothing; print a unified diff");
        var json = cmd.Flag("--json", "print a JSON report: each device before and after, what was dropped, findings");
        var libvirt = OptionValues.LibvirtOption(cmd);
        var spare = OptionValues.SparePorts(cmd);
        var io = OptionValues.IoReserve(cmd);
        var force = cmd.Flag("--force", "write even when the result has an error finding");
        var acpi = OptionValues.AcpiIndexOption(cmd);
        cmd.OnExecute(() =>
        {
            if (to.Value() != "q35")
                throw new UsageException($"convert needs --to q35{(to.Value() is { } v ? $" ('{v}' is not a machine it converts to)" : "")}", CommandLine.PathOf(cmd));
            if (!OptionValues.TryParseLibvirt(ctx, libvirt, out var profile))
                return ExitCode.InvalidInput;
            var inputs = FileBatch.Inputs(files.Values);
            bool toStdout = !inPlace.HasValue() && !check.HasValue() && !diff.HasValue() && !json.HasValue();
            if (toStdout && inputs.Count != 1)
                throw new UsageException("several inputs: use --in-place, --check, --diff or --json (stdout takes one document)", CommandLine.PathOf(cmd));
            var settings = new Settings(profile, spare.Value, io.Value ?? IoReserveMode.Keep, acpi.HasValue(), inPlace.HasValue(), check.HasValue(), diff.HasValue(), json.HasValue(), force.HasValue(), toStdout);
            var projects = new System.Collections.Concurrent.ConcurrentDictionary<string, ProjectSettings?>();
            return FileBatch.Run(ctx, inputs, (path, found) => ConvertOne(ctx, path, found, settings, projects), settings.Json,
                settings.InPlace ? "converted" : "to convert");
        });
    }

    private sealed record Settings(LibvirtProfile? Libvirt, int? SparePorts, IoReserveMode IoReserve, bool AcpiIndex, bool InPlace, bool Check, bool Diff, bool Json, bool Force, bool ToStdout);

    /// <summary>One file: converted, its view (or JSON entry, or diff), written where asked; a fault is that file's message.</summary>
    private static FileResult ConvertOne(CommandContext ctx, string path, bool found, Settings s, System.Collections.Concurrent.ConcurrentDictionary<string, ProjectSettings?> projects) =>
        FileBatch.Domain(ctx, path, found, s.Json, (input, name, pc, said) =>
        {
            var project = ProjectSettings.ForInput(path, projects);
            var choice = LibvirtChoice.Resolve(s.Libvirt, project);
            var plan = Q35Conversion.Convert(pc, new RewriteOptions { Libvirt = choice.Profile, SparePorts = s.SparePorts, IoReserve = s.IoReserve, AcpiIndex = s.AcpiIndex, Firmware = FirmwareChoice.Resolve(null, project) });
            bool write = s.Force || !plan.Plan.Findings.Any(f => f.Severity == Severity.Error);
            said.AddRange(plan.Plan.Findings.Where(f => f.Severity >= Severity.Warning).Select(f => f.Format(name)));
            string? stdout = s.Diff ? AssignCommand.UnifiedDiff(name, pc.Document.Source.Text, plan.Text) : null;
            if (!s.Json && !s.Diff)
            {
                var view = View(name, plan, choice);
                if (s.ToStdout) said.Add(view.TrimEnd('\n'));
                else stdout = view;
            }
            Action<JsonReport>? json = s.Json ? r => r.Conversion(name, plan, (choice.Profile.ToString(), choice.From)) : null;
            if (!write)
            {
                said.Add($"{name}: not written: the result has errors (fix them, or use --force to write anyway)");
                return new FileResult(FileStatus.Checked, plan.Plan.Changed, ExitCode.ErrorFinding, stdout, said, null, json);
            }
            if (s.InPlace && input.Path is not null && plan.Plan.Changed) FileIO.WriteAtomic(input.Path, input.Bytes, plan.Bytes);
            return new FileResult(FileStatus.Checked, plan.Plan.Changed, s.Check && plan.Plan.Changed ? ExitCode.ChangesNeeded : ExitCode.Ok,
                stdout, said, s.ToStdout ? plan.Bytes : null, json);
        });

    /// <summary>The before/after table: per device its pc and q35 place and model, and what the guest will notice.</summary>
    internal static string View(string name, Q35ConversionPlan plan, LibvirtChoice libvirt)
    {
        if (plan.MachineBefore == plan.MachineAfter)
            return $"{name}: already {plan.MachineAfter}: nothing to convert ({libvirt}; addresses and ledger as assign --stable keeps them)\n";
        var namesBefore = LinuxNames(plan.Before);
        var namesAfter = LinuxNames(plan.After);
        var sb = new StringBuilder();
        sb.Append($"{name}: {plan.MachineBefore} -> {plan.MachineAfter} ({libvirt}); an address ledger is started\n");
        var rows = plan.Changes.Where(c => c.Before is not null || c.After is not null || c.Note is not null || c.ModelBefore != c.ModelAfter).Select(c => (
            c.Key,
            Before: $"{c.Before ?? "-"}{(c.Before is not null && plan.ComputedBefore.Contains(c.Key) ? "*" : "")} {c.ModelBefore}".Trim(),
            After: $"{c.After ?? "-"} {c.ModelAfter}".Trim(),
            Sees: string.Join("; ", new[]
            {
                c.ModelBefore is not null && c.ModelAfter is not null && c.ModelBefore != c.ModelAfter ? $"model {c.ModelBefore} -> {c.ModelAfter}" : null,
                namesBefore.TryGetValue(c.Key, out var nb) && namesAfter.TryGetValue(c.Key, out var na) ? $"Linux NIC name {nb} -> {na}" : null,
                c.Note,
            }.Where(s => s is not null)))).ToList();
        int w1 = Math.Max(6, rows.Max(r => r.Key.Length)), w2 = Math.Max(10, rows.Max(r => r.Before.Length)), w3 = Math.Max(9, rows.Max(r => r.After.Length));
        sb.Append($"  {"device".PadRight(w1)}  {"pc (before)".PadRight(w2)}  {"q35 (after)".PadRight(w3)}  what the guest notices\n");
        foreach (var r in rows)
            sb.Append($"  {r.Key.PadRight(w1)}  {r.Before.PadRight(w2)}  {r.After.PadRight(w3)}  {(r.Sees.Length > 0 ? r.Sees : "same device, new slot")}\n".TrimEnd(' ') );
        foreach (var d in plan.Dropped) sb.Append($"  dropped: {d}\n");
        if (rows.Any(r => r.Before.Contains('*', StringComparison.Ordinal)))
            sb.Append("  * the file has no address for it: where libvirt places it on pc (computed)\n");
        return sb.ToString();
    }

    /// <summary>The name a Linux guest's udev gives each PCI NIC (GuestView: onboard, slot, then path name).</summary>
    private static Dictionary<string, string> LinuxNames(DomainDefinition d) =>
        GuestView.Of(d).Devices.Values.Where(g => g.Nic is not null).ToDictionary(g => g.Key, g => g.Nic!.Name);
}
