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
        cmd.OnExecute(() => OptionValues.TryParseLibvirt(ctx, libvirt, out var profile)
            ? Execute(ctx, files.Values, json.HasValue(), profile, ovmf.Value?.Name) : ExitCode.InvalidInput);
    }

    public static int Execute(CommandContext ctx, IReadOnlyList<string> paths, bool json, LibvirtProfile? flag, string? ovmf)
    {
        var projects = new System.Collections.Concurrent.ConcurrentDictionary<string, ProjectSettings?>();
        return FileBatch.Run(ctx, FileBatch.Inputs(paths), (path, found) => LintOne(ctx, path, found, json, flag, ovmf, projects), json, "with errors");
    }

    private static FileResult LintOne(CommandContext ctx, string path, bool found, bool json, LibvirtProfile? flag, string? ovmf,
        System.Collections.Concurrent.ConcurrentDictionary<string, ProjectSettings?> projects) =>
        FileBatch.Domain(ctx, path, found, json, (_, name, domain, said) =>
        {
            var project = ProjectSettings.ForInput(path, projects);
            var libvirt = LibvirtChoice.Resolve(flag, project);
            var findings = Rewriter.Lint(domain, new RewriteOptions { Libvirt = libvirt.Profile, Firmware = FirmwareChoice.Resolve(ovmf, project) });
            if (!json && findings.Count > 0)
            {
                said.AddRange(findings.Select(f => f.Format(name)));
                said.Add($"{name}: {findings.Count} finding{(findings.Count == 1 ? "" : "s")}, checked as {libvirt}");
            }
            bool errors = findings.Any(f => f.Severity == Severity.Error);
            return new FileResult(FileStatus.Checked, errors, errors ? ExitCode.ChangesNeeded : ExitCode.Ok, null, said, null,
                json ? r => r.File(name, changed: null, findings, devices: null, (libvirt.Profile.ToString(), libvirt.From)) : null);
        });
}
