using DiffPlex.Renderer;
using LibvirtPci.Domain;
using LibvirtPci.Passthrough;
using LibvirtPci.Rewrite;
using LibvirtPci.Xml;
using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

/// <summary>The options of `assign` (also accepted by the bare `libvirt-pci` command).</summary>
public sealed class AssignOptions
{
    public required CommandArgument Files { get; init; }
    public required CommandOption InPlace { get; init; }
    public required CommandOption Check { get; init; }
    public required CommandOption Diff { get; init; }
    public required CommandOption Json { get; init; }
    public required CommandOption Explain { get; init; }
    public required CommandOption LibvirtVersion { get; init; }
    public required CommandOption Stable { get; init; }
    public required CommandOption Ledger { get; init; }
    public required CommandOption SparePorts { get; init; }
    public required CommandOption IoReserve { get; init; }

    public static AssignOptions Add(CommandLineApplication app) => new()
    {
        Files = app.Argument("FILE", "domain XML files or directories (domain files are picked by their root element); - or nothing for stdin", multipleValues: true),
        InPlace = app.Option("-i|--in-place", "rewrite the files themselves (atomic: temp file + rename, mode kept)", CommandOptionType.NoValue),
        Check = app.Option("--check", "write nothing; exit 1 if an address would be added", CommandOptionType.NoValue),
        Diff = app.Option("--diff", "write nothing; print a unified diff of what would change", CommandOptionType.NoValue),
        Json = app.Option("--json", "print a JSON report (every device: address, kept or assigned, and why)", CommandOptionType.NoValue),
        Explain = app.Option("--explain", "say on stderr why each new address and controller was chosen", CommandOptionType.NoValue),
        Stable = app.Option("--stable", "start an address ledger in the domain's <metadata> (a domain that has one always uses it): removed devices' slots are not reused, returning devices get their old address, root ports are only appended", CommandOptionType.NoValue),
        Ledger = app.Option("--ledger <PATH>", "keep the ledger in this file instead of the domain's <metadata> (one input only)", CommandOptionType.SingleValue),
        SparePorts = app.Option("--spare-ports <N>", "keep N empty hotplug pcie-root-ports at the end (q35)", CommandOptionType.SingleValue),
        IoReserve = app.Option("--io-reserve <MODE>", "off: add -global pcie-root-port.io-reserve=0 (<qemu:commandline>); per-port: <qemu:override> io-reserve=0 only on root ports whose devices need no I/O (libvirt >= 8.2); remove: take our injection out again", CommandOptionType.SingleValue),
        LibvirtVersion = app.Option("--libvirt-version <X.Y>", "the libvirt whose choices to reproduce (default 9.0, the only one known to differ from none)", CommandOptionType.SingleValue),
    };
}

internal static class AssignCommand
{
    public static int Execute(CommandContext ctx, AssignOptions o)
    {
        var args = o.Files.Values.Where(v => v is not null).Select(v => v!).ToList();
        if (args.Count == 0) args.Add("-");
        if (o.LibvirtVersion.HasValue() && o.LibvirtVersion.Value() is not ("9.0" or "9"))
        {
            ctx.Err.WriteLine($"libvirt-pci: error LP002: --libvirt-version {o.LibvirtVersion.Value()} is not supported (known: 9.0)");
            return ExitCode.InvalidInput;
        }
        bool inPlace = o.InPlace.HasValue(), check = o.Check.HasValue(), diff = o.Diff.HasValue(), json = o.Json.HasValue();
        var inputs = FileIO.Expand(args).ToList();
        int? spare = null;
        if (o.SparePorts.HasValue())
        {
            if (!int.TryParse(o.SparePorts.Value(), out var n) || n < 0 || n > 240)
            {
                ctx.Err.WriteLine($"libvirt-pci: error LP001: --spare-ports takes a number from 0 to 240, not '{o.SparePorts.Value()}'");
                return ExitCode.InvalidInput;
            }
            spare = n;
        }
        var ioReserve = IoReserveMode.Keep;
        if (o.IoReserve.HasValue())
        {
            switch (o.IoReserve.Value())
            {
                case "off": ioReserve = IoReserveMode.Off; break;
                case "per-port": ioReserve = IoReserveMode.PerPort; break;
                case "remove": ioReserve = IoReserveMode.Remove; break;
                default:
                    ctx.Err.WriteLine($"libvirt-pci: error LP001: --io-reserve takes off, per-port or remove, not '{o.IoReserve.Value()}'");
                    return ExitCode.InvalidInput;
            }
        }
        string? ledgerPath = o.Ledger.HasValue() ? o.Ledger.Value() : null;
        if (ledgerPath is not null && inputs.Count != 1)
        {
            ctx.Err.WriteLine("libvirt-pci: error LP001: --ledger keeps the record of one domain: give exactly one input");
            return ExitCode.InvalidInput;
        }
        bool toStdout = !inPlace && !check && !diff && !json;
        if (toStdout && inputs.Count != 1)
        {
            ctx.Err.WriteLine("libvirt-pci: error LP001: several inputs: use --in-place, --check, --diff or --json (stdout takes one document)");
            return ExitCode.InvalidInput;
        }
        if (inPlace && inputs.Any(i => i.Path == "-"))
        {
            ctx.Err.WriteLine("libvirt-pci: error LP001: --in-place needs files, not stdin");
            return ExitCode.InvalidInput;
        }

        int exit = ExitCode.Ok, changed = 0, failed = 0, skipped = 0, checkedFiles = 0;
        var report = new JsonReport();
        foreach (var (path, found) in inputs)
        {
            try
            {
                var input = ctx.Read(path);
                var source = SourceText.FromBytes(input.Name, input.Bytes);
                var doc = XmlSpanParser.Parse(source);
                if (found && !DomainDefinition.IsDomainRoot(doc))
                {
                    skipped++;
                    report.Skipped(input.Name, "not a <domain>");
                    continue;
                }
                var sidecar = ledgerPath is null ? null : LedgerFile.Read(ledgerPath);
                var options = new RewriteOptions { Stable = o.Stable.HasValue(), SidecarLedger = sidecar?.Ledger, SparePorts = spare, IoReserve = ioReserve };
                var plan = Rewriter.Assign(DomainDefinition.FromDocument(doc), options);
                checkedFiles++;
                report.File(input.Name, plan.Changed, plan.Findings, plan.Devices);
                if (plan.Changed) changed++;
                if (o.Explain.HasValue()) Explain(ctx, input.Name, plan);
                if (diff && plan.Changed) ctx.Out.Write(UnifiedDiff(input.Name, source.Text, plan.Text));
                if (!o.Explain.HasValue())
                    foreach (var f in plan.Findings.Where(f => f.Severity >= Severity.Warning)) ctx.Err.WriteLine(f.Format(input.Name));
                if (check && plan.Findings.Any(f => f.Severity == Severity.Error))
                    exit = Math.Max(exit, ExitCode.ChangesNeeded);
                if (check && plan.Changed)
                {
                    exit = Math.Max(exit, ExitCode.ChangesNeeded);
                    int n = plan.Devices.Count(d => d.Origin == "assigned");
                    ctx.Err.WriteLine($"{input.Name}: would assign {n} PCI address{(n == 1 ? "" : "es")} (run: libvirt-pci -i {Quote(input.Name)})");
                }
                if (inPlace && plan.Changed && input.Path is not null)
                    FileIO.WriteAtomic(input.Path, input.Bytes, plan.Bytes);
                if (sidecar is not null && plan.Ledger is not null && !check && !diff)
                    LedgerFile.Write(ledgerPath!, sidecar, plan.Ledger);
                if (toStdout)
                {
                    ctx.Out.Flush();
                    ctx.StdoutStream.Write(plan.Bytes);
                    ctx.StdoutStream.Flush();
                }
            }
            catch (InputException e)
            {
                failed++;
                ctx.Report(e);
                report.Failed(e);
                exit = ExitCode.InvalidInput;
            }
        }
        if (json) ctx.Out.Write(report.ToJson());
        if (inputs.Count > 1 || inputs.Any(i => i.Found))
            ctx.Err.WriteLine($"libvirt-pci: {checkedFiles} checked, {changed} {(inPlace ? "changed" : "to change")}, {failed} failed, {skipped} skipped (not domain XML)");
        return exit;
    }

    private static string Quote(string path) => path.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$') ? $"'{path.Replace("'", "'\\''")}'" : path;

    internal static string UnifiedDiff(string name, string before, string after) =>
        UnidiffRenderer.GenerateUnidiff(before, after, Path.IsPathRooted(name) ? name : "a/" + name, Path.IsPathRooted(name) ? name : "b/" + name, ignoreWhitespace: false, contextLines: 3);

    private static void Explain(CommandContext ctx, string name, RewritePlan plan)
    {
        foreach (var d in plan.Devices.Where(d => d.Origin == "assigned"))
            ctx.Err.WriteLine($"{name}:{(d.Line > 0 ? d.Line + ":" : "")} {(d.Added ? "added " : "")}{d.Key} -> {d.Address}{(d.Multifunction ? " multifunction" : "")}: {d.Reason}");
        foreach (var f in plan.Findings) ctx.Err.WriteLine(f.Format(name));
    }
}
