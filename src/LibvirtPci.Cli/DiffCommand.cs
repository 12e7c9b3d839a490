using System.Text;
using System.Text.Json;
using LibvirtPci.Domain;
using LibvirtPci.Guest;
using LibvirtPci.Xml;
using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

/// <summary>
/// `libvirt-pci diff OLD NEW` (files), `diff REV -- FILE` (a revision against the work tree) or
/// `diff REV1 REV2 -- FILE`: what the guest will see change, device by device (GuestDiff).
/// Exit 0 when no device that stays changes its guest identity (additions and removals are
/// listed), 1 when one does, 2 on bad input.
/// </summary>
internal static class DiffCommand
{
    public const string Help = """

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
""";

    public static void Define(CommandLineApplication cmd, CommandContext ctx)
    {
        var operands = cmd.Files("OLD NEW | REV [REV2] -- FILE", "two domain XML files, or Git revisions then -- and the file");
        var json = cmd.Flag("--json", "machine-readable report on stdout");
        var cached = cmd.Flag("--cached", "compare the staged file with REV (default HEAD), as the commit-msg hook does");
        cmd.OnExecute(() => Execute(ctx, operands.BeforeSeparator, operands.AfterSeparator, json.HasValue(), cached.HasValue()));
    }

    public static int Execute(CommandContext ctx, IReadOnlyList<string> operands, IReadOnlyList<string> afterSeparator, bool json, bool cached = false)
    {
        try
        {
            var (before, after) = Inputs(operands, afterSeparator);
            var b = DomainDefinition.Parse(SourceText.FromBytes(before.Name, before.Bytes));
            var a = DomainDefinition.Parse(SourceText.FromBytes(after.Name, after.Bytes));
            var diff = GuestDiff.Compare(b, a);
            ctx.Out.Write(json ? Json(before.Name, after.Name, diff) : Table(before.Name, after.Name, diff));
            return diff.HasIdentityChanges ? ExitCode.ChangesNeeded : ExitCode.Ok;
        }
        catch (InputException e)
        {
            ctx.Report(e);
            return ExitCode.InvalidInput;
        }

        (InputFile Before, InputFile After) Inputs(IReadOnlyList<string> ops, IReadOnlyList<string> files)
        {
            if (files.Count == 0)
            {
                if (ops.Count != 2) throw new UsageException("diff takes two files (diff OLD.xml NEW.xml), or revisions and a file (diff REV [REV2] -- FILE)", "libvirt-pci diff");
                return (ctx.Read(ops[0]), ctx.Read(ops[1]));
            }
            if (cached && files.Count == 1 && ops.Count <= 1)
                return (AtRevision(ops.Count == 1 ? ops[0] : "HEAD", files[0]), AtRevision("", files[0]));
            if (files.Count != 1 || ops.Count is < 1 or > 2 || cached)
                throw new UsageException("diff REV -- FILE compares a file at a Git revision with the work tree; diff REV1 REV2 -- FILE two revisions; diff --cached [REV] -- FILE the staged file with REV (HEAD)", "libvirt-pci diff");
            var file = files[0];
            return ops.Count == 1 ? (AtRevision(ops[0], file), ctx.Read(file)) : (AtRevision(ops[0], file), AtRevision(ops[1], file));
        }
    }

    /// <summary>The guest-visible changes between two versions of a domain file; null when either is not a domain document the tool reads.</summary>
    internal static GuestDiff? Compare(string name, byte[] before, byte[] after)
    {
        try
        {
            return GuestDiff.Compare(DomainDefinition.Parse(SourceText.FromBytes(name, before)), DomainDefinition.Parse(SourceText.FromBytes(name, after)));
        }
        catch (InputException)
        {
            return null;
        }
    }

    /// <summary>The file's content at a revision (git show REV:./FILE, so the path is the user's, relative to here); the empty revision is the index (the staged file).</summary>
    private static InputFile AtRevision(string revision, string file)
    {
        var relative = Path.IsPathRooted(file) ? Path.GetRelativePath(Environment.CurrentDirectory, file) : file;
        using var bytes = new MemoryStream();
        var r = ProcessRunner.Run("git", ["show", $"{revision}:./{relative}"], TimeSpan.FromMinutes(1), stdoutTo: bytes);
        var name = revision.Length == 0 ? $"{file} (staged)" : $"{revision}:{file}";
        if (!r.Started) throw new InputException(name, "LP112", "git is not installed");
        if (r.ExitCode != 0) throw new InputException(name, "LP112", $"git cannot give it: {(r.TimedOut ? r.Stderr : r.Error).Trim()}");
        return new InputFile(name, null, bytes.ToArray());
    }

    internal static string Table(string beforeName, string afterName, GuestDiff diff)
    {
        if (diff.Changes.Count == 0) return "";
        var sb = new StringBuilder();
        var stays = diff.IdentityChanges.ToList();
        sb.Append($"{beforeName} → {afterName}: ");
        sb.Append(stays.Count == 0 ? "no device the guest has seen changes" : $"{Count(stays.Count, "device")} the guest has seen {(stays.Count == 1 ? "changes" : "change")} identity");
        sb.Append('\n');
        var rows = diff.Changes.Select(c => (Device: Describe(c.Before ?? c.After!), Before: Seen(c.Before), After: Seen(c.After), What: What(c))).ToList();
        int w1 = Math.Max(6, rows.Max(r => r.Device.Length)), w2 = Math.Max(6, rows.Max(r => r.Before.Length)), w3 = Math.Max(5, rows.Max(r => r.After.Length));
        sb.Append($"  {"device".PadRight(w1)}  {"before".PadRight(w2)}  {"after".PadRight(w3)}  what the guest sees\n");
        foreach (var r in rows)
            sb.Append($"  {r.Device.PadRight(w1)}  {r.Before.PadRight(w2)}  {r.After.PadRight(w3)}  {r.What}".TrimEnd()).Append('\n');
        foreach (var c in diff.Changes.Where(c => c.Causes.Count > 0))
            foreach (var cause in c.Causes) sb.Append($"  {c.Key}: {cause}\n");
        if (stays.Count > 0)
            sb.Append("  (guest locations: the firmware's bus numbers, SeaBIOS and OVMF alike; Linux names: ").Append(GuestView.UdevScheme).Append(")\n")
              .Append("  To keep the old locations: libvirt-pci -i --stable FILE records every address in the domain's ledger, so later edits move none.\n");
        return sb.ToString();
    }

    private static string Describe(GuestDevice d) => d.Model is { } m && !d.Key.Contains(m, StringComparison.Ordinal) ? $"{d.Key} ({m})" : d.Key;

    private static string Seen(GuestDevice? d) => d is null ? "-" : d.Nic is { } nic ? $"{d.Bdf[5..]} {nic.Name}" : d.Bdf[5..];

    private static string What(GuestChange c)
    {
        if (c.Added) return "new device";
        if (c.Removed) return "removed";
        var parts = new List<string>();
        if (c.Before!.Nic?.Name is { } n && c.After!.Nic?.Name is { } m && n != m) parts.Add($"Linux renames the NIC {n} → {m}");
        if (c.Before.ByPath != c.After!.ByPath) parts.Add($"/dev/disk/by-path/{c.Before.ByPath} → {c.After.ByPath}");
        if (c.WindowsNewInstance) parts.Add("Windows installs it as new hardware");
        return string.Join("; ", parts);
    }

    private static string Count(int n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";

    internal static string Json(string beforeName, string afterName, GuestDiff diff)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("before", beforeName);
            w.WriteString("after", afterName);
            w.WriteBoolean("guestVisibleChanges", diff.HasIdentityChanges);
            w.WriteString("linuxNaming", GuestView.UdevScheme);
            WriteChanges(w, "devices", diff.Changes);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>The changes as a JSON array (diff --json; migrate's and assign's guestVisibleChanges).</summary>
    internal static void WriteChanges(Utf8JsonWriter w, string property, IEnumerable<GuestChange> changes)
    {
        w.WriteStartArray(property);
        foreach (var c in changes)
        {
            w.WriteStartObject();
            w.WriteString("key", c.Key);
            w.WriteString("change", c.Added ? "added" : c.Removed ? "removed" : "identity");
            Side(w, "before", c.Before);
            Side(w, "after", c.After);
            if (!c.Added && !c.Removed) w.WriteBoolean("windowsNewInstance", c.WindowsNewInstance);
            if (c.Causes.Count > 0)
            {
                w.WriteStartArray("causes");
                foreach (var cause in c.Causes) w.WriteStringValue(cause);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void Side(Utf8JsonWriter w, string name, GuestDevice? d)
    {
        if (d is null) return;
        w.WriteStartObject(name);
        w.WriteString("address", d.Libvirt.ToString());
        w.WriteString("guest", d.Bdf);
        if (d.Nic is { } nic)
        {
            w.WriteString("linuxName", nic.Name);
            if (nic.Onboard is { } o) w.WriteString("onboardName", o);
            if (nic.Slot is { } s) w.WriteString("slotName", s);
            w.WriteString("pathName", nic.Path);
        }
        if (d.ByPath is { } p) w.WriteString("byPath", p);
        w.WriteEndObject();
    }
}
