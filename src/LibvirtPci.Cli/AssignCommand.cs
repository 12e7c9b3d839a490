using DiffPlex.Renderer;
using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Passthrough;
using LibvirtPci.Rewrite;
using LibvirtPci.Xml;
using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

/// <summary>The options of `assign` (also accepted by the bare `libvirt-pci` command).</summary>
internal sealed class AssignOptions
{
    public required Positionals Files { get; init; }
    public required CommandOption InPlace { get; init; }
    public required CommandOption Check { get; init; }
    public required CommandOption Diff { get; init; }
    public required CommandOption Json { get; init; }
    public required CommandOption Explain { get; init; }
    public required CommandOption LibvirtVersion { get; init; }
    public required CommandOption Stable { get; init; }
    public required CommandOption Ledger { get; init; }
    public required ValueOption<int> SparePorts { get; init; }
    public required ValueOption<Passthrough.IoReserveMode> IoReserve { get; init; }
    public required CommandOption SkipNonDomain { get; init; }
    public required CommandOption StdinName { get; init; }
    public required CommandOption Force { get; init; }
    public required CommandOption AcpiIndex { get; init; }
    public required ValueOption<OvmfRelease> OvmfVersion { get; init; }

    public static AssignOptions Add(CommandLineApplication app) => new()
    {
        Files = app.Files("FILE", "domain XML files or directories (domain files are picked by their root element); - or nothing for stdin"),
        InPlace = app.Flag("-i|--in-place", "rewrite the files themselves (atomic: temp file + rename, mode kept)"),
        Check = app.Flag("--check", "write nothing; exit 1 if an address would be added"),
        Diff = app.Flag("--diff", "write nothing; print a unified diff of what would change"),
        Json = app.Flag("--json", "print a JSON report (every device: address, kept or assigned, and why)"),
        Explain = app.Flag("--explain", "say on stderr why each new address and controller was chosen"),
        Stable = app.Flag("--stable", "start an address ledger in the domain's <metadata> (a domain that has one always uses it): removed devices' slots are not reused, returning devices get their old address, root ports are only appended"),
        Ledger = app.Valued("--ledger <PATH>", "keep the ledger in this file instead of the domain's <metadata> (one input only)"),
        SparePorts = OptionValues.SparePorts(app),
        IoReserve = OptionValues.IoReserve(app),
        SkipNonDomain = app.Flag("--skip-non-domain", "skip (do not refuse) named files whose root is not <domain> (as for files found in directories)"),
        StdinName = app.Valued("--stdin-filename <NAME>", "the name to use for stdin in messages (hooks pass the staged file's path)"),
        Force = app.Flag("--force", "write even when the result has an error finding (e.g. LP601: the domain would not boot); the error is still printed"),
        LibvirtVersion = OptionValues.LibvirtOption(app),
        AcpiIndex = OptionValues.AcpiIndexOption(app),
        OvmfVersion = FirmwareChoice.Option(app),
    };
}

internal static class AssignCommand
{
    public const string Help = """

Fills in every missing PCI address and adds the PCI controllers libvirt would add, so that
the result is what `virsh define` + `virsh dumpxml --inactive` would store, without a libvirt
daemon (x86_64 pc/i440fx and q35). Which libvirt, 7.0 to 12.9: --libvirt-version, else the
.libvirt-pci.json above the file, else the installed libvirt, else the newest known (12.9);
--explain says which. Addresses already in the file are kept.
Only the new <address> and <controller> elements are written; every other byte stays.

Examples:
  libvirt-pci vm.xml > vm.addressed.xml      one file to stdout
  virsh dumpxml --inactive vm | libvirt-pci | virsh define /dev/stdin
  libvirt-pci -i vms/*.xml                    rewrite in place (atomic)
  libvirt-pci --check --diff vm.xml           show what would change, exit 1 if anything
  libvirt-pci --json vm.xml                   every device: address, kept/assigned, why

Exit codes: 0 nothing to do / done, 1 --check found changes or errors, 2 invalid input or
usage, 3 virsh failed or an internal error (LP190), 4 the result has an error finding (e.g. LP601: the domain would not
boot): nothing written unless --force. Messages: FILE:LINE:COL: error LPnnn: text
""";

    public static void Define(CommandLineApplication cmd, CommandContext ctx)
    {
        var options = AssignOptions.Add(cmd);
        cmd.OnExecute(() => Execute(ctx, options));
    }

    public static int Execute(CommandContext ctx, AssignOptions o)
    {
        var inputs = FileBatch.Inputs(o.Files.Values);
        if (Settings(ctx, o, inputs) is not { } settings) return ExitCode.InvalidInput;
        return FileBatch.Run(ctx, inputs, (path, found) => ProcessFile(ctx, path, found, settings), settings.Json, settings.InPlace ? "changed" : "to change");
    }

    /// <summary>The command line's choices, checked against each other: a usage error (LP001) when they cannot work together; null after an LP002 line for --libvirt-version.</summary>
    private static FileSettings? Settings(CommandContext ctx, AssignOptions o, List<(string Path, bool Found)> inputs)
    {
        if (!OptionValues.TryParseLibvirt(ctx, o.LibvirtVersion, out var libvirt)) return null;
        bool inPlace = o.InPlace.HasValue(), check = o.Check.HasValue(), diff = o.Diff.HasValue(), json = o.Json.HasValue();
        bool toStdout = !inPlace && !check && !diff && !json;
        string? ledgerPath = o.Ledger.Value();
        string? usage =
            ledgerPath is not null && inputs.Count != 1 ? "--ledger keeps the record of one domain: give exactly one input"
            : toStdout && inputs.Count != 1 ? "several inputs: use --in-place, --check, --diff or --json (stdout takes one document)"
            : diff && json ? "--diff and --json: choose one (the JSON report lists every device and address; the diff shows the lines)"
            : inPlace && inputs.Any(i => i.Path == "-") ? "--in-place needs files, not stdin"
            : null;
        if (usage is not null) throw new UsageException(usage, CommandLine.PathOf(o.Files.Command));
        return new FileSettings(
            new CommandLineChoices(o.Stable.HasValue(), o.SparePorts.Value, o.IoReserve.Value, libvirt, o.AcpiIndex.HasValue(), o.OvmfVersion.Value?.Name), new(),
            ledgerPath, inPlace, check, diff, json, toStdout, o.Explain.HasValue(), o.SkipNonDomain.HasValue(), o.StdinName.Value(), o.Force.HasValue());
    }

    /// <summary>What the command line chose; each file adds what its .libvirt-pci.json says for the rest.</summary>
    private sealed record CommandLineChoices(bool Stable, int? SparePorts, IoReserveMode? IoReserve, LibvirtProfile? Libvirt, bool AcpiIndex, string? Ovmf);

    private sealed record FileSettings(CommandLineChoices Cli, System.Collections.Concurrent.ConcurrentDictionary<string, ProjectSettings?> Projects, string? LedgerPath, bool InPlace, bool Check, bool Diff, bool Json, bool ToStdout, bool Explain, bool SkipNonDomain, string? StdinName, bool Force);

    private static FileResult ProcessFile(CommandContext ctx, string path, bool found, FileSettings s) =>
        FileBatch.Domain(ctx, path, found, s.Json, (input, name, domain, err) =>
        {
            // Flags first, then the repository's .libvirt-pci.json (walking up from the file), then defaults.
            var project = ProjectSettings.ForInput(path, s.Projects, s.StdinName);
            var (libvirt, from) = ResolveLibvirt(s, project, name, err);
            var sidecar = s.LedgerPath is null ? null : LedgerFile.Read(s.LedgerPath);
            var options = OptionsFor(s.Cli, project, libvirt, sidecar);
            var plan = Rewriter.Assign(domain, options);
            int exit = ExitCode.Ok;
            if (s.Explain) err.AddRange([$"{name}: libvirt {libvirt}'s choices (from {from})", .. Explain(name, plan)]);
            else
                foreach (var f in plan.Findings)
                    if (f.Severity >= Severity.Warning) err.Add(f.Format(name));
            // A result with an error finding (it would not boot, say) is not written: a pipeline into
            // `virsh define` must stop here, not define a broken domain. --force writes it anyway.
            bool write = s.Force || !plan.Findings.Any(f => f.Severity == Severity.Error);
            if (!write)
            {
                exit = s.Check ? ExitCode.ChangesNeeded : ExitCode.ErrorFinding;
                if (s.InPlace || s.ToStdout) err.Add($"{name}: not written: the result has errors (fix them, or use --force to write anyway)");
            }
            if (s.Check && plan.Changed)
            {
                exit = Math.Max(exit, ExitCode.ChangesNeeded);
                err.Add($"{name}: would {Summary(plan, future: true)} (run: libvirt-pci -i {Quote(name)})");
            }
            if (s.InPlace && write && plan.Changed && input.Path is not null)
            {
                FileIO.WriteAtomic(input.Path, input.Bytes, plan.Bytes);
                err.Add($"{name}: {Summary(plan)}");
            }
            if (sidecar is not null && write && plan.Ledger is not null && !s.Check && !s.Diff)
                LedgerFile.Write(s.LedgerPath!, sidecar, plan.Ledger);
            return new FileResult(FileStatus.Checked, plan.Changed, exit,
                s.Diff && plan.Changed ? UnifiedDiff(name, domain.Document.Source.Text, plan.Text) : null, err,
                s.ToStdout && write ? plan.Bytes : null, s.Json ? r => r.File(name, plan.Changed, plan.Findings, plan.Devices, (libvirt.ToString(), from),
                    plan.Changed ? DiffCommand.Compare(name, input.Bytes, plan.Bytes) : null) : null);
        }, s.StdinName, s.SkipNonDomain, passSkipped: s.ToStdout);

    /// <summary>The libvirt whose choices to reproduce for this file; never a silent guess (LP003 when it is newer than any profile).</summary>
    private static LibvirtChoice ResolveLibvirt(FileSettings s, ProjectSettings? project, string name, List<string> err)
    {
        var choice = LibvirtChoice.Resolve(s.Cli.Libvirt, project);
        if (s.Cli.Libvirt is null && project is { NewerThanKnown: true })
            err.Add($"{project.File}: warning LP003: {LibvirtProfile.NewerThanKnown("the libvirt it names")}");
        else if (choice.NewerThanKnown) // the installed libvirt is newer than any profile
            err.Add($"{name}: warning LP003: libvirt {choice.Profile}'s choices (from {choice.From})");
        return choice;
    }

    /// <summary>The command line's choices, then the project's, then the defaults.</summary>
    private static RewriteOptions OptionsFor(CommandLineChoices cli, ProjectSettings? project, LibvirtProfile libvirt, LedgerFile? sidecar) => new()
    {
        Stable = cli.Stable || project?.Stable == true,
        SparePorts = cli.SparePorts ?? project?.SparePorts,
        IoReserve = cli.IoReserve ?? project?.IoReserve ?? IoReserveMode.Keep,
        Libvirt = libvirt,
        AcpiIndex = cli.AcpiIndex || project?.AcpiIndex == true,
        SidecarLedger = sidecar?.Ledger,
        Firmware = FirmwareChoice.Resolve(cli.Ovmf, project),
    };

    /// <summary>"assigned 3 PCI addresses", or what else changed: the ledger, the io-reserve passthrough, ACPI indexes, controller details.</summary>
    internal static string Summary(RewritePlan plan, bool future = false)
    {
        int count = plan.Devices.Count(d => d.Origin == "assigned");
        if (count > 0) return $"{(future ? "assign" : "assigned")} {count} PCI address{(count == 1 ? "" : "es")}";
        var parts = ChangedParts(plan.Source.Text, plan.Text);
        return $"{(future ? "update" : "updated")} {(parts.Count == 0 ? "the markup" : string.Join(" and ", parts))}";
    }

    /// <summary>Which parts of the document the changed lines belong to, in a fixed order.</summary>
    private static List<string> ChangedParts(string before, string after)
    {
        var old = new HashSet<string>(before.Split('\n'), StringComparer.Ordinal);
        var now = new HashSet<string>(after.Split('\n'), StringComparer.Ordinal);
        var changed = now.Except(old).Concat(old.Except(now)).ToList();
        var parts = new List<string>();
        void Part(string name, Func<string, bool> test) { if (changed.Any(test)) parts.Add(name); }
        Part("the address ledger", l => l.Contains(":ledger", StringComparison.Ordinal) || l.Contains(":device ", StringComparison.Ordinal) || l.Contains(":acpi ", StringComparison.Ordinal));
        Part("the io-reserve passthrough", l => l.Contains("io-reserve", StringComparison.Ordinal) || l.Contains("qemu:", StringComparison.Ordinal) || l.Contains("<alias name='ua-pci-rp", StringComparison.Ordinal) || l.Contains("<alias name=\"ua-pci-rp", StringComparison.Ordinal));
        Part("ACPI indexes", l => l.Contains("<acpi index", StringComparison.Ordinal));
        Part("controller details", l => l.Contains("<model name", StringComparison.Ordinal) || l.Contains("<target chassis", StringComparison.Ordinal));
        return parts;
    }

    private static string Quote(string path) => path.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$') ? $"'{path.Replace("'", "'\\''")}'" : path;

    internal static string UnifiedDiff(string name, string before, string after) =>
        UnidiffRenderer.GenerateUnidiff(before, after, Path.IsPathRooted(name) ? name : "a/" + name, Path.IsPathRooted(name) ? name : "b/" + name, ignoreWhitespace: false, contextLines: 3);

    /// <summary>Why each address was chosen and what was found, in the file's line order (added devices, which have no line, last).</summary>
    private static IEnumerable<string> Explain(string name, RewritePlan plan) =>
        plan.Devices.Where(d => d.Origin == "assigned")
            .Select(d => (Line: d.Line, Text: $"{name}:{(d.Line > 0 ? d.Line + ":" : "")} {(d.Added ? "added " : "")}{d.Key} -> {d.Address}{(d.Multifunction ? " multifunction" : "")}: {d.Reason}"))
            .Concat(plan.Findings.Select(f => (f.Line, Text: f.Format(name))))
            .OrderBy(e => e.Line > 0 ? e.Line : int.MaxValue)
            .Select(e => e.Text);
}

