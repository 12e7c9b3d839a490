using System.Text;

namespace LibvirtPci.Cli;

/// <summary>
/// The command line: thin wiring of options to the library and to <see cref="FileIO"/>.
/// </summary>
public static class Commands
{
    public const string Version = "0.2.0";

    /// <summary>The date the manual page carries (a release sets it with the version).</summary>
    public const string ReleaseDate = "2026-12-07";

    public static int Run(string[] args, Stream stdout, TextWriter stderr, Stream? stdin = null)
    {
        var outWriter = new StreamWriter(stdout, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        var ctx = new CommandContext(stdout, outWriter, stderr, stdin);
        var console = new CommandLine.BufferedConsole();
        try
        {
            return CommandLine.Run(Tool(ctx), args, console, outWriter);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"libvirt-pci: error LP001: {e.Message} (see {e.Command} --help)");
            return ExitCode.InvalidInput;
        }
        catch (Exception e) when (Faults.IsReportable(e))
        {
            stderr.WriteLine(Faults.AsMessage("libvirt-pci", e).ToString());
            return ExitCode.ToolFailed;
        }
    }

    /// <summary>Every command and option of the tool, bound to its handler (a run builds only the command it runs).</summary>
    internal static CommandLine.Root Tool(CommandContext ctx) => new("libvirt-pci", "libvirt-pci: libvirt-compatible, stable PCI addresses for domain XML",
        console =>
        {
            var app = CommandLine.NewCommand(console, "libvirt-pci", "Assign PCI addresses as libvirt would.", version: Version);
            app.ExtendedHelpText = AssignCommand.Help;
            AssignCommand.Define(app, ctx);
            return app;
        },
        [
        new("assign", "Assign PCI addresses as libvirt would (the default command).", cmd => AssignCommand.Define(cmd, ctx), AssignCommand.Help),
        new("tree", "Print the PCI topology of a domain as written: buses, slots, empty hotplug ports.", cmd => TreeCommand.Define(cmd, ctx)),
        new("diff", "What the guest will see change between two versions of a domain: PCI locations, Linux NIC names, new hardware for Windows.", cmd => DiffCommand.Define(cmd, ctx), DiffCommand.Help),
        new("lint", "Report problems in the PCI addresses a domain already has (exit 1 on errors).", cmd => LintCommand.Define(cmd, ctx), LintCommand.Help),
        new("codes", "List every diagnostic code: kind, severity, meaning, and the evidence behind each error.", cmd => ReferenceCommands.DefineCodes(cmd, ctx), ReferenceCommands.CodesHelp),
        new("migrate", "Migrate existing domains through your virsh: record every address in a ledger, define, verify, roll back on failure.", cmd => MigrateCommand.Define(cmd, ctx), MigrateCommand.Help),
        new("convert", "Convert pc (i440fx) domains to q35, keeping the guest's devices, with a before/after view.", cmd => ConvertCommand.Define(cmd, ctx), ConvertCommand.Help),
        new("man", "Print the manual page, libvirt-pci(1), in roff (man -l - reads it).", cmd => ReferenceCommands.DefineMan(cmd, ctx), ReferenceCommands.ManHelp),
        new("completion", "Print the shell completion script for bash or zsh.", cmd => ReferenceCommands.DefineCompletion(cmd, ctx), ReferenceCommands.CompletionHelp),
        new("hook", "Install or remove the Git hooks that check staged domain XML: addresses (pre-commit) and what the guest sees (commit-msg).", hook => HookCommand.Define(hook, ctx)),
        ]);
}

