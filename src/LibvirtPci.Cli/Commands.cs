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

    private const string AssignHelp = """

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
            app.ExtendedHelpText = AssignHelp;
            var options = AssignOptions.Add(app);
            app.OnExecute(() => AssignCommand.Execute(ctx, options));
            return app;
        },
        [
        new("assign", "Assign PCI addresses as libvirt would (the default command).", cmd =>
        {
            var opts = AssignOptions.Add(cmd);
            cmd.OnExecute(() => AssignCommand.Execute(ctx, opts));
        }, AssignHelp),

        new("tree", "Print the PCI topology of a domain as written: buses, slots, empty hotplug ports.", cmd =>
        {
            var file = cmd.Files("FILE", "domain XML file, or - for stdin", many: false);
            var libvirt = OptionValues.LibvirtOption(cmd);
            var format = cmd.Valued("--format <FORMAT>", "text (default), dot (Graphviz source), svg (needs Graphviz's dot), json");
            var json = cmd.Flag("--json", "the same as --format json");
            cmd.OnExecute(() =>
            {
                var chosen = json.HasValue() ? "json" : format.Value() ?? "text";
                if (chosen is not ("text" or "dot" or "svg" or "json"))
                {
                    ctx.Err.WriteLine($"libvirt-pci: error LP001: --format takes text, dot, svg or json, not '{chosen}'");
                    return ExitCode.InvalidInput;
                }
                return OptionValues.TryParseLibvirt(ctx, libvirt, out var profile)
                    ? TreeCommand.Execute(ctx, file.Values.Count == 0 ? "-" : file.Values[0], profile, chosen) : ExitCode.InvalidInput;
            });
        }),

        new("diff", "What the guest will see change between two versions of a domain: PCI locations, Linux NIC names, new hardware for Windows.", cmd =>
        {
            var operands = cmd.Files("OLD NEW | REV [REV2] -- FILE", "two domain XML files, or Git revisions then -- and the file");
            var json = cmd.Flag("--json", "machine-readable report on stdout");
            var cached = cmd.Flag("--cached", "compare the staged file with REV (default HEAD), as the commit-msg hook does");
            cmd.OnExecute(() => DiffCommand.Execute(ctx, operands.BeforeSeparator, operands.AfterSeparator, json.HasValue(), cached.HasValue()));
        }, """

Devices are matched by identity (a NIC by its MAC, a disk by its target, a controller by type
and index), as the ledger matches them. For each device that stays, the guest's view before
and after: its PCI location with the firmware's bus numbers (SeaBIOS and OVMF number alike),
a NIC's Linux name as systemd-udev gives it (enoN from <acpi index>, ensN from a hotplug slot,
else enpXsY), a virtio disk's /dev/disk/by-path name, and whether Windows installs it as new
hardware (it keys devices to their location). A bus renumbered by a bridge or port added
before it is named as the cause. Added and removed devices are listed.

Exit 0 when no device that stays changes what the guest sees (nothing printed when nothing
differs), 1 when one does, 2 on bad input.

  libvirt-pci diff old.xml new.xml
  libvirt-pci diff HEAD -- vms/web.xml          # the work tree against the last commit
  libvirt-pci diff v1.2 main -- vms/web.xml --json
  libvirt-pci diff --cached -- vms/web.xml      # what is staged, against HEAD
"""),

        new("lint", "Report problems in the PCI addresses a domain already has (exit 1 on errors).", cmd =>
        {
            var files = cmd.Files("FILE", "domain XML files or directories, or - for stdin");
            var json = cmd.Flag("--json", "machine-readable report on stdout");
            var libvirt = OptionValues.LibvirtOption(cmd);
            var ovmf = FirmwareChoice.Option(cmd);
            cmd.OnExecute(() => OptionValues.TryParseLibvirt(ctx, libvirt, out var profile) && FirmwareChoice.TryParse(ctx, ovmf, out var release)
                ? LintCommand.Execute(ctx, files.Values.Count == 0 ? ["-"] : files.Values, json.HasValue(), profile, release) : ExitCode.InvalidInput);
        }, """

Checks: duplicate addresses, addresses on a bus with no controller, slots a bus does not
have, functions > 0 without multifunction='on' on function 0, PCIe ports on conventional
PCI buses, repeated chassis/port numbers, duplicate controller indexes.
"""),

        new("codes", "List every diagnostic code: kind, severity, meaning, and the evidence behind each error.", cmd =>
            cmd.OnExecute(() =>
            {
                ctx.Out.Write(Diagnostics.MarkdownTable());
                return ExitCode.Ok;
            }), """

Errors stop a write: each rests on libvirt refusing the document (read in its source or
measured on a daemon) or on a guest that does not boot (real boots); the evidence column
says which. Everything else is a warning or a note, and the file is written.
"""),

        new("migrate", "Migrate existing domains through your virsh: record every address in a ledger, define, verify, roll back on failure.", cmd =>
        {
            var domains = cmd.Files("DOMAIN", "domain names");
            var connect = cmd.Valued("-c|--connect <URI>", "libvirt connection URI (default: LIBVIRT_DEFAULT_URI or virsh's default)");
            var all = cmd.Flag("--all", "every defined domain (virsh list --all)");
            var dryRun = cmd.Flag("--dry-run", "show the diffs, define nothing");
            var backupDir = cmd.Valued("--backup-dir <DIR>", "where the original XML goes (default ./libvirt-pci-backup-TIMESTAMP)");
            var spare = OptionValues.SparePortsOption(cmd);
            var io = OptionValues.IoReserveOption(cmd);
            var virshPath = cmd.Valued("--virsh <PATH>", "the virsh to run (default: virsh on PATH)");
            var virshTimeout = cmd.Valued("--virsh-timeout <SECONDS>", "stop a virsh command that has not finished after this long (default 120): a daemon that does not answer fails that domain, it does not hang the run");
            var force = cmd.Flag("--force", "define even when the new XML has an error finding (e.g. LP601: the domain would not boot)");
            var libvirt = cmd.Valued("--libvirt-version <X.Y>", "the libvirt whose choices to reproduce (default: the daemon's own, from virsh version --daemon)");
            var json = cmd.Flag("--json", "print a JSON report on stdout instead of the diffs: each domain's outcome, its XML before and after, findings");
            var acpi = OptionValues.AcpiIndexOption(cmd);
            var toQ35 = cmd.Flag("--convert-to-q35", "also convert pc (i440fx) domains to q35, keeping their devices (see convert --help); q35 domains are only recorded");
            var acceptGuest = cmd.Flag("--accept-guest-changes", "define even when a device the guest already has would move or be renamed (LP134; libvirt-pci diff explains)");
            cmd.OnExecute(() =>
            {
                if (!OptionValues.TryParse(ctx, spare, io, out var spareValue, out var mode)) return ExitCode.InvalidInput;
                if (!OptionValues.TryParseLibvirt(ctx, libvirt, out var profile)) return ExitCode.InvalidInput;
                TimeSpan? timeout = null;
                if (virshTimeout.Value() is { } seconds)
                {
                    if (!int.TryParse(seconds, out var s) || s is < 1 or > 86_400)
                    {
                        ctx.Err.WriteLine($"libvirt-pci: error LP001: --virsh-timeout takes seconds from 1 to 86400, not '{seconds}'");
                        return ExitCode.InvalidInput;
                    }
                    timeout = TimeSpan.FromSeconds(s);
                }
                return MigrateCommand.Execute(ctx, new MigrateCommand.Options(connect.Value(), all.HasValue(),
                    domains.Values, dryRun.HasValue(), backupDir.Value(), spareValue, mode, virshPath.Value() ?? "virsh", force.HasValue(), profile, json.HasValue(), toQ35.HasValue(), acpi.HasValue(), timeout, acceptGuest.HasValue()));
            });
        }, """

For each domain: virsh dumpxml --inactive, record every current PCI address in the domain's
<metadata> ledger (no address moves), optionally add --spare-ports/--io-reserve, print the
diff, save the original to --backup-dir, virsh define, dump again and verify every address;
if define or the verification fails, the original is defined again. Running domains keep
running: the new XML applies at their next cold boot. LIBVIRT_DEFAULT_URI is honoured.
"""),

        new("convert", "Convert pc (i440fx) domains to q35, keeping the guest's devices, with a before/after view.", cmd =>
            ConvertCommand.Define(cmd, ctx), """

Every device keeps its identity (MAC, disk target and serial, hostdev source, boot order) and,
where q35 can host it, its model: IDE disks and cdroms move to q35's SATA (the target name is
kept), the PIIX IDE controller and pc's PCI controllers go, pc's default USB controller is
written out so it stays. The machine becomes the matching pc-q35 version; addresses are given
as libvirt gives them on q35, and an address ledger is started. What q35 cannot host (the ISA
ib700 watchdog) is refused in words. Compare: virt-xml --convert-to-q35 also replaces NIC and
sound models and renames disks.
"""),

        new("man", "Print the manual page, libvirt-pci(1), in roff (man -l - reads it).", cmd =>
            cmd.OnExecute(() =>
            {
                ctx.Out.Write(Reference.ManPage(Tool(ctx), Version, ReleaseDate));
                return ExitCode.Ok;
            }), """

The page is made from the same definitions as --help: every command and option, the exit
codes and the diagnostic codes. Packages install it; for a bare binary:
  libvirt-pci man | gzip > /usr/local/share/man/man1/libvirt-pci.1.gz
"""),

        new("completion", "Print the shell completion script for bash or zsh.", cmd =>
        {
            var shell = cmd.Files("SHELL", "bash or zsh", many: false);
            cmd.OnExecute(() =>
            {
                var which = shell.Values.FirstOrDefault();
                if (which is not ("bash" or "zsh"))
                {
                    ctx.Err.WriteLine($"libvirt-pci: error LP001: completion takes bash or zsh, not '{which}'");
                    return ExitCode.InvalidInput;
                }
                ctx.Out.Write(which == "bash" ? Reference.Bash(Tool(ctx)) : Reference.Zsh(Tool(ctx)));
                return ExitCode.Ok;
            });
        }, """

Completes commands, options, --libvirt-version, --ovmf-version, --io-reserve and --format
values, files, and for migrate the domains `virsh list --all` names. Packages install it; for
a bare binary:
  libvirt-pci completion bash > /etc/bash_completion.d/libvirt-pci
  libvirt-pci completion zsh > /usr/local/share/zsh/site-functions/_libvirt-pci
"""),

        new("hook", "Install or remove the Git hooks that check staged domain XML: addresses (pre-commit) and what the guest sees (commit-msg).", hook =>
        {
            hook.AddCommand("install", "Write .git/hooks/pre-commit (staged domain XML missing addresses fails the commit with the diff and the fixing command) and commit-msg (hook guard).", cmd =>
            {
                var fix = cmd.Flag("--fix", "rewrite and re-stage the staged files instead of failing");
                var force = cmd.Flag("--force", "replace pre-commit and commit-msg hooks that are not libvirt-pci's");
                var command = cmd.Valued("--command <PATH>", "the libvirt-pci the hook runs (default: this binary, or libvirt-pci on PATH)");
                cmd.OnExecute(() => HookCommand.Install(ctx, fix.HasValue(), force.HasValue(), command.Value()));
            });
            hook.AddCommand("guard", "The commit-msg check: refuse staged domain XML that moves or renames, in the guest, devices it already had (exit 1; the message's 'Guest-Visible: accepted' trailer or LIBVIRT_PCI_ACCEPT_GUEST_CHANGES=1 lets it through).", cmd =>
            {
                var message = cmd.Files("MESSAGE_FILE", "the commit message file Git passes to commit-msg hooks", many: false);
                cmd.OnExecute(() => HookCommand.Guard(ctx, message.Values.FirstOrDefault()));
            });
            hook.AddCommand("uninstall", "Remove libvirt-pci's pre-commit and commit-msg hooks (a foreign hook is left alone).", cmd =>
                cmd.OnExecute(() => HookCommand.Uninstall(ctx)));
        }),
        ]);
}

