using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Rewrite;
using LibvirtPci.Xml;
using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

internal static class LintCommand
{
    public const string Help = """

Checks: duplicate addresses, addresses on a bus with no controller, slots a bus does not
have, functions > 0 without multifunction='on' on function 0, PCIe ports on conventional
PCI buses, repeated chassis/port numbers, duplicate controller indexes.
""";

    public static void Define(CommandLineApplication cmd, CommandContext ctx)
    {
        var files = cmd.Files("FILE", "domain XML files or directories, or - for stdin");
        var json = cmd.Flag("--json", "machine-readable report on stdout");
        var libvirt = OptionValues.LibvirtOption(cmd);
        var ovmf = FirmwareChoice.Option(cmd);
        cmd.OnExecute(() => OptionValues.TryParseLibvirt(ctx, libvirt, out var profile) && FirmwareChoice.TryParse(ctx, ovmf, out var release)
            ? Execute(ctx, files.Values.Count == 0 ? ["-"] : files.Values, json.HasValue(), profile, release) : ExitCode.InvalidInput);
    }

    public static int Execute(CommandContext ctx, IReadOnlyList<string> paths, bool json, LibvirtProfile? flag, string? ovmf)
    {
        int exit = ExitCode.Ok;
        var report = new JsonReport();
        var projects = new System.Collections.Concurrent.ConcurrentDictionary<string, ProjectSettings?>();
        foreach (var (path, found) in FileIO.Expand(paths))
        {
            try
            {
                var input = ctx.Read(path);
                var doc = XmlSpanParser.Parse(SourceText.FromBytes(input.Name, input.Bytes));
                if (found && !DomainDefinition.IsDomainRoot(doc))
                {
                    report.Skipped(input.Name, "not a <domain>");
                    continue;
                }
                var domain = DomainDefinition.FromDocument(doc);
                var project = ProjectSettings.ForInput(path, projects);
                var libvirt = LibvirtChoice.Resolve(flag, project);
                var findings = Rewriter.Lint(domain, new RewriteOptions { Libvirt = libvirt.Profile, Firmware = FirmwareChoice.Resolve(ovmf, project) });
                if (!json && findings.Count > 0)
                {
                    foreach (var f in findings) ctx.Err.WriteLine(f.Format(input.Name));
                    ctx.Err.WriteLine($"{input.Name}: {findings.Count} finding{(findings.Count == 1 ? "" : "s")}, checked as {libvirt}");
                }
                if (findings.Any(f => f.Severity == Severity.Error)) exit = Math.Max(exit, ExitCode.ChangesNeeded);
                report.File(input.Name, changed: null, findings, devices: null, (libvirt.Profile.ToString(), libvirt.From));
            }
            catch (Exception fault) when (Faults.IsReportable(fault))
            {
                var e = Faults.AsMessage(path, fault);
                if (!json) ctx.Report(e);
                report.Failed(e);
                exit = Math.Max(exit, Faults.ExitCodeOf(fault));
            }
        }
        if (json) ctx.Out.Write(report.ToJson());
        return exit;
    }
}
