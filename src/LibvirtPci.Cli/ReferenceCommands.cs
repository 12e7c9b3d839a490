using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

/// <summary>The commands that print the tool's own reference: the diagnostic catalogue, the manual page, shell completions.</summary>
internal static class ReferenceCommands
{
    public const string CodesHelp = """

Errors stop a write: each rests on libvirt refusing the document (read in its source or
measured on a daemon) or on a guest that does not boot (real boots); the evidence column
says which. Everything else is a warning or a note, and the file is written.
""";

    public static void DefineCodes(CommandLineApplication cmd, CommandContext ctx) =>
        cmd.OnExecute(() =>
        {
            ctx.Out.Write(Diagnostics.MarkdownTable());
            return ExitCode.Ok;
        });

    public const string ManHelp = """

The page is made from the same definitions as --help: every command and option, the exit
codes and the diagnostic codes. Packages install it; for a bare binary:
  libvirt-pci man | gzip > /usr/local/share/man/man1/libvirt-pci.1.gz
""";

    public static void DefineMan(CommandLineApplication cmd, CommandContext ctx) =>
        cmd.OnExecute(() =>
        {
            ctx.Out.Write(Reference.ManPage(Commands.Tool(ctx), Commands.Version, Commands.ReleaseDate));
            return ExitCode.Ok;
        });

    public const string CompletionHelp = """

Completes commands, options, --libvirt-version, --ovmf-version, --io-reserve and --format
values, files, and for migrate the domains `virsh list --all` names. Packages install it; for
a bare binary:
  libvirt-pci completion bash > /etc/bash_completion.d/libvirt-pci
  libvirt-pci completion zsh > /usr/local/share/zsh/site-functions/_libvirt-pci
""";

    public static void DefineCompletion(CommandLineApplication cmd, CommandContext ctx)
    {
        var shell = cmd.Files("SHELL", "bash or zsh", many: false);
        cmd.OnExecute(() =>
        {
            var which = shell.Values.FirstOrDefault();
            if (which is not ("bash" or "zsh")) throw new UsageException($"completion takes bash or zsh, not '{which}'", CommandLine.PathOf(cmd));
            ctx.Out.Write(which == "bash" ? Reference.Bash(Commands.Tool(ctx)) : Reference.Zsh(Commands.Tool(ctx)));
            return ExitCode.Ok;
        });
    }
}
