using System.Text;
using LibvirtPci.Addressing;
using LibvirtPci.Conversion;
using LibvirtPci.Domain;
using LibvirtPci.Passthrough;
using LibvirtPci.Rewrite;
using LibvirtPci.Stability;
using LibvirtPci.Xml;
using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

/// <summary>
/// `libvirt-pci migrate`: for each defined domain, through the user's virsh: dumpxml --inactive,
/// record every current address in a ledger (nothing moves), optionally add spare ports and the
/// io-reserve fix, show the diff, back up the original, define, dump again and verify; restore
/// the backup when define or verification fails.
/// </summary>
internal static class MigrateCommand
{
    public const string Help = """

For each domain: virsh dumpxml --inactive, record every current PCI address in the domain's
<metadata> ledger (no address moves), optionally add --spare-ports/--io-reserve, print the
diff, save the original to --backup-dir, virsh define, dump again and verify every address;
if define or the verification fails, the original is defined again. Running domains keep
running: the new XML applies at their next cold boot. LIBVIRT_DEFAULT_URI is honoured.
""";

    public static void Define(CommandLineApplication cmd, CommandContext ctx)
    {
        var domains = cmd.Files("DOMAIN", "domain names");
        var connect = cmd.Valued("-c|--connect <URI>", "libvirt connection URI (default: LIBVIRT_DEFAULT_URI or virsh's default)");
        var all = cmd.Flag("--all", "every defined domain (virsh list --all)");
        var dryRun = cmd.Flag("--dry-run", "show the diffs, define nothing");
        var backupDir = cmd.Valued("--backup-dir <DIR>", "where the original XML goes (default ./libvirt-pci-backup-TIMESTAMP)");
        var spare = OptionValues.SparePorts(cmd);
        var io = OptionValues.IoReserve(cmd);
        var virshPath = cmd.Valued("--virsh <PATH>", "the virsh to run (default: virsh on PATH)");
        var virshTimeout = new ValueOption<TimeSpan>(cmd, "--virsh-timeout <SECONDS>", "stop a virsh command that has not finished after this long (default 120): a daemon that does not answer fails that domain, it does not hang the run",
            text => int.TryParse(text, out var s) && s is >= 1 and <= 86_400 ? TimeSpan.FromSeconds(s) : null, "seconds from 1 to 86400");
        var force = cmd.Flag("--force", "define even when the new XML has an error finding (e.g. LP601: the domain would not boot)");
        var libvirt = cmd.Valued("--libvirt-version <X.Y>", "the libvirt whose choices to reproduce (default: the daemon's own, from virsh version --daemon)");
        var json = cmd.Flag("--json", "print a JSON report on stdout instead of the diffs: each domain's outcome, its XML before and after, findings");
        var acpi = OptionValues.AcpiIndexOption(cmd);
        var toQ35 = cmd.Flag("--convert-to-q35", "also convert pc (i440fx) domains to q35, keeping their devices (see convert --help); q35 domains are only recorded");
        var acceptGuest = cmd.Flag("--accept-guest-changes", "define even when a device the guest already has would move or be renamed (LP134; libvirt-pci diff explains)");
        cmd.OnExecute(() =>
        {
            if (!OptionValues.TryParseLibvirt(ctx, libvirt, out var profile)) return ExitCode.InvalidInput;
            return Execute(ctx, new Options(connect.Value(), all.HasValue(),
                domains.Values, dryRun.HasValue(), backupDir.Value(), spare.Value, io.Value ?? IoReserveMode.Keep, virshPath.Value() ?? "virsh", force.HasValue(), profile, json.HasValue(), toQ35.HasValue(), acpi.HasValue(), virshTimeout.Value, acceptGuest.HasValue()));
        });
    }

    public sealed record Options(string? Uri, bool All, IReadOnlyList<string> Domains, bool DryRun, string? BackupDir, int? SparePorts, IoReserveMode IoReserve, string VirshPath, bool Force, LibvirtProfile? Libvirt = null, bool Json = false, bool ConvertToQ35 = false, bool AcpiIndex = false, TimeSpan? VirshTimeout = null, bool AcceptGuestChanges = false);

    public static int Execute(CommandContext ctx, Options o)
    {
        if (!o.All && o.Domains.Count == 0) throw new UsageException("name the domains to migrate, or --all", "libvirt-pci migrate");
        var virsh = new Virsh(o.VirshPath, o.Uri, o.VirshTimeout ?? Virsh.DefaultTimeout);
        var names = o.Domains.ToList();
        if (o.All)
        {
            var list = virsh.Run("list", "--all", "--name");
            if (list.ExitCode != 0)
            {
                ctx.Err.WriteLine($"libvirt-pci: error LP130: virsh list failed: {list.Error}");
                return ExitCode.VirshFailed;
            }
            names = list.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }
        // The libvirt that will store the result decides: asked once (`virsh version --daemon`).
        var libvirt = LibvirtChoice.Resolve(o.Libvirt, null, o.Libvirt is null
            ? LibvirtChoice.FromVirshVersion(virsh.Run("version", "--daemon").Text, $"the daemon at {o.Uri ?? Environment.GetEnvironmentVariable("LIBVIRT_DEFAULT_URI") ?? "virsh's default URI"}")
            : null);
        ctx.Err.WriteLine($"libvirt-pci migrate: {libvirt}");
        var report = o.Json ? new JsonReport("domains", w =>
        {
            w.WriteString("libvirt", libvirt.Profile.ToString());
            w.WriteString("libvirtFrom", libvirt.From);
            w.WriteBoolean("dryRun", o.DryRun);
        }) : null;
        var backupDir = o.BackupDir ?? Path.Combine(Directory.GetCurrentDirectory(), $"libvirt-pci-backup-{DateTime.UtcNow:yyyyMMdd-HHmmss}");
        int exit = ExitCode.Ok, changed = 0, failed = 0, unchanged = 0;
        for (int i = 0; i < names.Count; i++)
        {
            var name = names[i];
            var outcome = MigrateOne(ctx, virsh, name, o, libvirt, backupDir, $"[{i + 1}/{names.Count}]", report);
            switch (outcome)
            {
                case ExitCode.Ok: unchanged++; break;
                case ExitCode.ChangesNeeded: changed++; break;
                default: failed++; exit = Math.Max(exit, outcome); break;
            }
        }
        ctx.Err.WriteLine($"libvirt-pci migrate: {names.Count} domain{(names.Count == 1 ? "" : "s")}, {changed} {(o.DryRun ? "to change" : "changed")}, {unchanged} unchanged, {failed} failed" +
            (!o.DryRun && changed > 0 ? $"; originals in {backupDir}" : ""));
        if (report is not null)
            ctx.Out.Write(report.ToJson(w =>
            {
                w.WriteStartObject("summary");
                w.WriteNumber("domains", names.Count);
                w.WriteNumber("changed", changed);
                w.WriteNumber("unchanged", unchanged);
                w.WriteNumber("failed", failed);
                w.WriteEndObject();
            }));
        return exit;
    }

    /// <summary>Returns Ok (nothing to do), ChangesNeeded (changed, or would change), or an error code.</summary>
    private static int MigrateOne(CommandContext ctx, Virsh virsh, string name, Options o, LibvirtChoice libvirt, string backupDir, string counter, JsonReport? report)
    {
        // "[3/5] vm:" heads this domain's lines; a line whose message names the domain itself takes the counter alone
        var prefix = $"{counter} {name}:";
        var dump = virsh.Run("dumpxml", "--inactive", name);
        if (dump.ExitCode != 0)
        {
            ctx.Err.WriteLine($"{prefix} error LP131: virsh dumpxml failed: {dump.Error}");
            report?.Domain(name, "failed", [], error: $"LP131: virsh dumpxml failed: {dump.Error}");
            return ExitCode.VirshFailed;
        }
        if (!TryPlan(ctx, name, dump.Stdout, o, libvirt, counter, report, out var plan, out var converted)) return ExitCode.InvalidInput;
        foreach (var f in plan.Findings.Where(f => f.Severity >= Severity.Warning)) ctx.Err.WriteLine($"{counter} {f.Format(name)}");
        if (!o.Force && plan.Findings.Any(f => f.Severity == Severity.Error))
        {
            ctx.Err.WriteLine($"{prefix} not defined: the new XML has errors (fix them, or use --force to define it anyway)");
            report?.Domain(name, "failed", plan.Findings, error: "not defined: the new XML has errors");
            return ExitCode.ErrorFinding;
        }
        if (!plan.Changed)
        {
            ctx.Err.WriteLine($"{prefix} already recorded, nothing to change");
            report?.Domain(name, "unchanged", plan.Findings);
            return ExitCode.Ok;
        }
        if (report is null) ctx.Out.Write(AssignCommand.UnifiedDiff($"{name}.xml", plan.Source.Text, plan.Text));
        // What the guest sees must not change behind the user's back: a device that moves or is
        // renamed (--acpi-index renames NICs to enoN too) is refused unless accepted; a q35
        // conversion is asked for, and changes it by nature.
        var guest = DiffCommand.Compare($"{name}.xml", plan.Source.Bytes, plan.Bytes);
        if (guest is { HasIdentityChanges: true })
        {
            ctx.Err.Write(DiffCommand.Table($"{name} (defined)", $"{name} (new)", guest));
            if (!o.AcceptGuestChanges && !converted)
            {
                var why = "LP134: not defined: devices the guest already has would move or be renamed (--accept-guest-changes defines it anyway)";
                ctx.Err.WriteLine($"{prefix} error {why}");
                report?.Domain(name, "failed", plan.Findings, error: why, before: plan.Source.Text, after: plan.Text, guest: guest);
                return ExitCode.ErrorFinding;
            }
        }
        if (o.DryRun)
        {
            ctx.Err.WriteLine($"{prefix} would change (dry run: nothing defined)");
            report?.Domain(name, "would change", plan.Findings, before: plan.Source.Text, after: plan.Text, guest: guest);
            return ExitCode.ChangesNeeded;
        }
        return DefineAndVerify(ctx, virsh, name, dump.Stdout, plan, Path.Combine(backupDir, $"{name}.xml"), prefix, report, guest);
    }

    /// <summary>The new XML for a dumped domain (a q35 conversion when asked and it is pc); false when the tool refuses it (said on stderr and in the report).</summary>
    private static bool TryPlan(CommandContext ctx, string name, byte[] dumped, Options o, LibvirtChoice libvirt, string counter, JsonReport? report, out RewritePlan plan, out bool converted)
    {
        converted = false;
        try
        {
            var options = new RewriteOptions { Stable = true, SparePorts = o.SparePorts, IoReserve = o.IoReserve, Libvirt = libvirt.Profile, AcpiIndex = o.AcpiIndex };
            var domain = DomainDefinition.Parse(SourceText.FromBytes($"{name}.xml", dumped));
            if (o.ConvertToQ35 && domain.Family == MachineFamily.I440fx)
            {
                var conversion = Q35Conversion.Convert(domain, options);
                plan = conversion.Plan;
                converted = conversion.MachineBefore != conversion.MachineAfter;
                if (report is null) ctx.Err.Write(ConvertCommand.View(name, conversion, libvirt));
            }
            else plan = Rewriter.Assign(domain, options);
            return true;
        }
        catch (InputException e)
        {
            ctx.Err.WriteLine($"{counter} {e}"); // the message names the domain itself
            report?.Domain(name, "failed", e.Errors, error: e.ToString());
            plan = null!;
            return false;
        }
    }

    /// <summary>Back up, define, dump again and verify; define the backup again when anything fails.</summary>
    private static int DefineAndVerify(CommandContext ctx, Virsh virsh, string name, byte[] original, RewritePlan plan, string backup, string prefix, JsonReport? report, LibvirtPci.Guest.GuestDiff? guest)
    {
        try
        {
            FileIO.WritePrivate(backup, original);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var why = $"LP105: cannot write the backup {backup} ({e.Message}); nothing defined";
            ctx.Err.WriteLine($"{prefix} error {why}");
            report?.Domain(name, "failed", plan.Findings, error: why);
            return ExitCode.InvalidInput;
        }
        // migrate runs as root: the XML handed to virsh goes into a folder only we can enter
        // (mkdtemp, mode 0700), created afresh, never to a predictable name under /tmp.
        var privateDir = Directory.CreateTempSubdirectory("libvirt-pci-migrate-");
        var temp = Path.Combine(privateDir.FullName, "domain.xml");
        using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            fs.Write(plan.Bytes);
        try
        {
            var define = virsh.Run("define", temp);
            string? problem = define.ExitCode != 0 ? $"virsh define refused the new XML: {define.Error}" : null;
            if (problem is null)
            {
                var again = virsh.Run("dumpxml", "--inactive", name);
                problem = again.ExitCode != 0 ? $"virsh dumpxml after define failed: {again.Error}" : Verify(plan, again.Stdout, name);
            }
            if (problem is not null)
            {
                var (code, message) = Restore(virsh, backup, problem);
                ctx.Err.WriteLine($"{prefix} error {message}");
                report?.Domain(name, code == "LP132" ? "rolled back" : "failed", plan.Findings, error: message, backup: backup, before: plan.Source.Text, after: plan.Text);
                return ExitCode.VirshFailed;
            }
        }
        finally
        {
            privateDir.Delete(recursive: true);
        }
        var state = virsh.Run("domstate", name).Text.Trim();
        var note = state is "running" or "paused" or "in shutdown" ? $" ({state}: the new XML applies at the next cold boot — shut down, then start)" : "";
        ctx.Err.WriteLine($"{prefix} defined; every address verified; ledger recorded{note}");
        report?.Domain(name, "changed", plan.Findings, backup: backup, before: plan.Source.Text, after: plan.Text, note: note.Length > 0 ? note.Trim(' ', '(', ')') : null, guest: guest);
        return ExitCode.ChangesNeeded;
    }

    /// <summary>
    /// libvirt must have stored exactly our addresses, and the ledger. What virsh prints is compared
    /// by meaning (<see cref="PciFacts"/>): libvirt re-quotes and re-indents, which is no difference.
    /// </summary>
    private static string? Verify(RewritePlan plan, byte[] stored, string name)
    {
        XmlSpanDocument theirs;
        try
        {
            theirs = XmlSpanParser.Parse(SourceText.FromBytes($"{name}.stored.xml", stored));
        }
        catch (InputException e)
        {
            return $"virsh dumpxml printed no XML: {e.Message}";
        }
        var diff = PciFacts.Diff(PciFacts.Of(plan.Text), PciFacts.Of(theirs));
        if (diff.Count > 0) return "libvirt stored different PCI addresses: " + string.Join("; ", diff.Take(3));
        var ledger = AddressLedger.FindInMetadata(theirs.Root);
        if (ledger is null || !AddressLedger.Read(theirs, ledger).SameAs(plan.Ledger))
            return "libvirt did not keep the address ledger in <metadata>";
        return null;
    }

    /// <summary>Defines the backup again; says which error it is (LP132 restored, LP133 restoring failed too).</summary>
    private static (string Code, string Message) Restore(Virsh virsh, string backup, string why)
    {
        var restore = virsh.Run("define", backup);
        return restore.ExitCode != 0
            ? ("LP133", $"LP133: {why}; RESTORING THE BACKUP FAILED: {restore.Error} (the original is {backup})")
            : ("LP132", $"LP132: {why}; the original definition was restored from {backup}");
    }
}
