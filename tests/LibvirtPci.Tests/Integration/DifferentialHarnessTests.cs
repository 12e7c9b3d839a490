using System.Collections.Concurrent;
using LibvirtPci.Tests.Support;
using LibvirtPci.Tools;
using Xunit.Abstractions;

namespace LibvirtPci.Tests.Integration;

/// <summary>
/// The differential harness: domains no fixture holds (the generator's wild mode, a fixed seed set
/// plus seeds taken from the commit, so every commit meets domains no earlier one met), each
/// defined by a real libvirt daemon, then five properties per domain:
/// 1. addresses — the tool's addresses and added controllers for the input equal the daemon's;
/// 2. stored fixed — the daemon's stored document passes assign, --check and lint with exit 0 and
///    comes back byte-identical;
/// 3. own output fixed — every command's output on the stored document (assign, --stable,
///    --spare-ports, --io-reserve, --acpi-index, convert) run again is exit 0 and byte-identical;
/// 4. accepted — the daemon defines every such output with --validate (its own schema, as
///    virt-xml-validate) and, but for convert, stores the same PCI addresses;
/// 5. converted — every pc domain's conversion to q35 is defined by the daemon;
/// 6. guest kept — no command changes what the guest sees of a device the stored document has
///    (GuestDiff), nor does --stable after a NIC is added to it; but convert and --acpi-index (they
///    change it on purpose) and --spare-ports without --stable (new ports go where libvirt puts
///    them, which may be before existing ones: the ledger is what keeps them after).
/// A failure is shrunk to the devices that matter and printed as a fixture to add.
/// </summary>
[Trait("Category", "Integration")]
[Collection("libvirt")]
public sealed class DifferentialHarnessTests(ITestOutputHelper output)
{
    /// <summary>Domains per daemon: half a fixed set (seeds 1…), half from the commit.</summary>
    public const int Domains = 300;

    [SkippableTheory]
    [InlineData("bullseye", "7.0")]
    [InlineData("host", "9.0")]
    [InlineData("trixie", "11.3")]
    [InlineData("trixie-backports", "12.9")]
    public void The_tool_agrees_with_the_daemon_and_with_itself(string daemonName, string libvirt)
    {
        var daemon = LibvirtDaemon.Named(daemonName);
        daemon.Require();
        Assert.StartsWith(libvirt + ".", daemon.DaemonVersion());
        var seeds = Seeds();
        var score = new Score();
        var failures = new ConcurrentBag<string>();
        bool newer = Version.Parse(libvirt) >= new Version(10, 4);
        int shrunk = 0;
        Parallel.ForEach(seeds, new ParallelOptions { MaxDegreeOfParallelism = 2 }, seed =>
        {
            var xml = new DomainGenerator(seed).Generate(new DomainGenerator.Options(Wild: true, NewerDevices: newer));
            foreach (var failure in Check(daemon, libvirt, xml, score))
                failures.Add($"seed {seed}: {failure.Message}" + (Interlocked.Increment(ref shrunk) > 3 ? "" // shrinking costs defines: the first few
                    : $"\n  shrunk to:\n{Shrink(xml, x => Check(daemon, libvirt, x, new Score()).Any(f => f.Property == failure.Property))}"));
        });
        var line = $"libvirt {libvirt} ({daemon.Name}): {seeds.Count} domains ({score.Refused} refused by libvirt, {score.RefusedByBoth} of them by the tool too): " +
                   $"addresses {score.Addresses}, stored fixed {score.StoredFixed}, own output fixed {score.OwnFixed}, accepted {score.Accepted}, converted {score.Converted}, guest kept {score.GuestKept}";
        output.WriteLine(line);
        Scoreboard.Add($"{line}; seeds 1-{Domains / 2} and {seeds[Domains / 2]}-{seeds[^1]}");
        Console.WriteLine($"  seeds {seeds[0]}–{seeds[Domains / 2 - 1]} and {seeds[Domains / 2]}–{seeds[^1]} (LIBVIRT_PCI_HARNESS_SEED={seeds[Domains / 2]} repeats this run)");
        Assert.True(failures.IsEmpty, $"{failures.Count} failures:\n" + string.Join("\n", failures.Take(5)));
        Assert.True(score.Refused.Total < seeds.Count / 10, $"libvirt refused {score.Refused.Total} of {seeds.Count}: the generator should make what libvirt accepts");
    }

    /// <summary>
    /// `migrate --all` through the user's virsh over wild domains the daemon holds: the first run
    /// fails none, the second changes none (the ledger and addresses it wrote are a fixed point).
    /// </summary>
    [SkippableTheory]
    [InlineData("bullseye")]
    [InlineData("host")]
    [InlineData("trixie")]
    [InlineData("trixie-backports")]
    public void Migrate_twice_fails_none_then_changes_none(string daemonName)
    {
        var daemon = LibvirtDaemon.Named(daemonName);
        daemon.Require();
        var uri = daemon.Uri;
        bool newer = Version.Parse(daemon.DaemonVersion()) >= new Version(10, 4);
        using var dir = new TempDir();
        var binary = Path.Combine(AppContext.BaseDirectory, "libvirt-pci");
        foreach (var leftover in Proc.Run("virsh", ["-c", uri, "list", "--all", "--name"]).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Proc.Run("virsh", ["-c", uri, "undefine", leftover.Trim()]);
        var names = new List<string>();
        try
        {
            for (int seed = 1; names.Count < MigratedDomains && seed < 3 * MigratedDomains; seed++)
            {
                var xml = new DomainGenerator(seed).Generate(new DomainGenerator.Options(Wild: true, NewerDevices: newer))
                    .Replace($"<name>gen-{seed}</name>", $"<name>mig-wild-{seed}</name>", StringComparison.Ordinal);
                if (Proc.Run("virsh", ["-c", uri, "define", dir.File($"{seed}.xml", System.Text.Encoding.UTF8.GetBytes(xml))]).Code == 0)
                    names.Add($"mig-wild-{seed}");
            }
            var first = Proc.Run(binary, ["migrate", "-c", uri, "--all", "--backup-dir", Path.Combine(dir.Path, "first")]);
            output.WriteLine(first.Err.Split('\n').LastOrDefault(l => l.Length > 0));
            Assert.True(first.Code == 0, first.Err);
            Assert.Contains($"{names.Count} domains, ", first.Err);
            Assert.Contains(" 0 failed", first.Err);
            var second = Proc.Run(binary, ["migrate", "-c", uri, "--all", "--backup-dir", Path.Combine(dir.Path, "second")]);
            Assert.True(second.Code == 0, second.Err);
            Assert.Contains($"{names.Count} domains, 0 changed, {names.Count} unchanged, 0 failed", second.Err);
        }
        finally
        {
            foreach (var n in names) Proc.Run("virsh", ["-c", uri, "undefine", n]);
        }
    }

    private const int MigratedDomains = 60;

    /// <summary>1…150, then 150 from the commit (or LIBVIRT_PCI_HARNESS_SEED).</summary>
    private static List<int> Seeds()
    {
        int start = Environment.GetEnvironmentVariable("LIBVIRT_PCI_HARNESS_SEED") is { } s && int.TryParse(s, out var given) ? given : CommitSeed();
        return [.. Enumerable.Range(1, Domains / 2), .. Enumerable.Range(start, Domains / 2)];
    }

    private static int CommitSeed()
    {
        var head = Proc.Run("git", ["rev-parse", "HEAD"], Paths.RepoRoot).Out.Trim();
        return head.Length >= 7 ? 1_000 + (int)(Convert.ToUInt32(head[..7], 16) % 100_000_000) : 1_000;
    }

    private sealed record Failure(string Property, string Message);

    /// <summary>Counts per property, passed/total; thread-safe.</summary>
    private sealed class Score
    {
        public readonly Tally Addresses = new(), StoredFixed = new(), OwnFixed = new(), Accepted = new(), Converted = new(), Refused = new(), GuestKept = new();
        public int RefusedByBoth => Refused.Passed;
    }

    private sealed class Tally
    {
        private int _passed, _total;
        public int Passed => _passed;
        public int Total => _total;
        public bool Count(bool passed)
        {
            Interlocked.Increment(ref _total);
            if (passed) Interlocked.Increment(ref _passed);
            return passed;
        }
        public override string ToString() => $"{_passed:N0}/{_total:N0}";
    }

    /// <summary>Commands that may refuse a stored document in words: ACPI indexes (old libvirt, no ACPI, old q35), convert (ib700).</summary>
    private static bool MayRefuse(ToolCommands.Command c) => c.Name is "acpi-index" or "convert";

    private static List<Failure> Check(LibvirtDaemon daemon, string libvirt, string xml, Score score)
    {
        var failures = new List<Failure>();
        void Fail(string property, string message) => failures.Add(new Failure(property, message));
        var stored = daemon.Store(xml);
        if (stored.ExitCode != 0)
        {
            score.Refused.Count(ToolCommands.All[0].Run(xml, libvirt).ExitCode == 2);
            return failures; // libvirt may refuse for reasons that are not addressing (a missing network, say)
        }
        // 1. addresses (NICs written without a MAC are compared under the MAC libvirt gave them: a MAC is no address)
        var ours = ToolCommands.All[0].Run(WithMacsOf(stored.Stdout, xml), libvirt);
        if (ours.ExitCode != 0)
        {
            score.Addresses.Count(false);
            Fail("addresses", $"libvirt {libvirt} stores it, the tool exits {ours.ExitCode}: {ours.Stderr.Trim()}");
        }
        else if (PciSnapshot.Of("libvirt", stored.Stdout).Diff(PciSnapshot.Of("ours", ours.Stdout)) is { Count: > 0 } diff)
        {
            score.Addresses.Count(false);
            Fail("addresses", "addresses differ (libvirt | ours):\n    " + string.Join("\n    ", diff.Take(10)));
        }
        else score.Addresses.Count(true);

        // 2. stored fixed
        var assign = ToolCommands.All[0].Run(stored.Stdout, libvirt);
        var check = Support.Cli.RunWithStdin(System.Text.Encoding.UTF8.GetBytes(stored.Stdout), "--check", "--libvirt-version", libvirt);
        var lint = Support.Cli.RunWithStdin(System.Text.Encoding.UTF8.GetBytes(stored.Stdout), "lint", "--libvirt-version", libvirt);
        if (!score.StoredFixed.Count(assign.ExitCode == 0 && assign.Stdout == stored.Stdout && check.ExitCode == 0 && lint.ExitCode == 0))
            Fail("stored", $"the stored document: assign exit {assign.ExitCode}{(assign.Stdout == stored.Stdout ? "" : " (changed it)")}, --check exit {check.ExitCode}, lint exit {lint.ExitCode}: {assign.Stderr.Trim()} {lint.Stderr.Trim()}");

        // 3.–5. every command on the stored document
        foreach (var command in ToolCommands.All.Where(c => c.AppliesTo(stored.Stdout)))
        {
            var (first, failure) = ToolCommands.FixedPoint(command, stored.Stdout, libvirt);
            if (first.ExitCode == 2 && MayRefuse(command)) continue;
            if (first.ExitCode == 2) failure = $"{command}: refuses the stored document: {first.Stderr.Trim()}";
            if (!score.OwnFixed.Count(failure is null))
            {
                Fail("fixed " + command, failure!);
                continue;
            }
            if (KeepsTheGuest(command) && GuestChanges(stored.Stdout, first.Stdout) is { } seen)
                if (!score.GuestKept.Count(seen.Length == 0))
                    Fail("guest " + command, $"{command}: the guest would see devices move or be renamed: {seen}");
            var again = daemon.Store(first.Stdout, validate: true);
            bool convert = command.Name == "convert";
            if (convert && stored.Stdout.Contains("machine='pc", StringComparison.Ordinal) && !stored.Stdout.Contains("machine='pc-q35", StringComparison.Ordinal))
                if (!score.Converted.Count(again.ExitCode == 0))
                    Fail("converted", $"convert: libvirt refuses the q35 domain: {again.Stderr.Trim()}");
            if (!score.Accepted.Count(again.ExitCode == 0))
            {
                Fail("accepted " + command, $"{command}: libvirt refuses the output: {again.Stderr.Trim()}");
                continue;
            }
            if (!convert && PciSnapshot.Of("ours", first.Stdout).Diff(PciSnapshot.Of("libvirt", again.Stdout)) is { Count: > 0 } moved)
                Fail("accepted " + command, $"{command}: defining the output moved addresses:\n    " + string.Join("\n    ", moved.Take(10)));
            if (command.Name.StartsWith("io-reserve", StringComparison.Ordinal) && Injection(first.Stdout) != Injection(again.Stdout))
                Fail("accepted " + command, $"{command}: libvirt {libvirt} does not keep what was injected: ours {Injection(first.Stdout)}, stored {Injection(again.Stdout)}");
        }
        // 6. a NIC added with the ledger moves nothing the guest has seen
        var withNic = stored.Stdout.Replace("</devices>", "  <interface type='network'>\n      <mac address='52:54:00:fe:ed:01'/>\n      <source network='default'/>\n      <model type='virtio'/>\n    </interface>\n  </devices>", StringComparison.Ordinal);
        var added = Support.Cli.RunWithStdin(System.Text.Encoding.UTF8.GetBytes(withNic), "--stable", "--libvirt-version", libvirt);
        if (added.ExitCode == 0 && GuestChanges(stored.Stdout, added.Stdout) is { } shifted && !score.GuestKept.Count(shifted.Length == 0))
            Fail("guest add", $"--stable with a NIC added: the guest would see devices move or be renamed: {shifted}");
        return failures;
    }

    private static bool KeepsTheGuest(ToolCommands.Command c) =>
        c.Name is not ("convert" or "acpi-index") && !(c.Name.Contains("spare-ports", StringComparison.Ordinal) && !c.Name.Contains("stable", StringComparison.Ordinal));

    /// <summary>The devices the guest already has that it would see elsewhere or renamed ("" when none); null when either does not parse.</summary>
    private static string? GuestChanges(string before, string after)
    {
        try
        {
            var diff = global::LibvirtPci.Guest.GuestDiff.Compare(DomainEdit.Parse(before), DomainEdit.Parse(after));
            return string.Join("; ", diff.IdentityChanges.Select(c => $"{c.Key} {c.Before!.Bdf} {c.Before.Nic?.Name} → {c.After!.Bdf} {c.After.Nic?.Name}"));
        }
        catch (global::LibvirtPci.InputException)
        {
            return null;
        }
    }

    /// <summary>The io-reserve passthrough a document carries: the global argument, and the ports with a per-port override.</summary>
    private static string Injection(string xml)
    {
        var settings = global::LibvirtPci.Domain.IoReserveSettings.Read(global::LibvirtPci.Domain.DomainDefinition.Parse(global::LibvirtPci.Xml.SourceText.FromString("x.xml", xml)));
        return $"global={settings.Global}, per-port=[{string.Join(",", settings.PerPortAliases.Order(StringComparer.Ordinal))}]";
    }

    /// <summary><paramref name="xml"/> with each &lt;interface&gt; that has no MAC given the MAC of the same interface (by order) in <paramref name="stored"/>.</summary>
    private static string WithMacsOf(string stored, string xml)
    {
        var interfaces = System.Text.RegularExpressions.Regex.Matches(xml, @"(?s)<interface\b[^>]*>.*?</interface>").ToList();
        var macs = System.Text.RegularExpressions.Regex.Matches(stored, @"(?s)<interface\b[^>]*>.*?</interface>")
            .Select(m => System.Text.RegularExpressions.Regex.Match(m.Value, "<mac address='([^']*)'").Groups[1].Value).ToList();
        if (interfaces.Count != macs.Count) return xml;
        for (int i = interfaces.Count - 1; i >= 0; i--)
        {
            var nic = interfaces[i];
            if (nic.Value.Contains("<mac ", StringComparison.Ordinal)) continue;
            int at = nic.Index + nic.Value.IndexOf('>') + 1;
            xml = xml[..at] + $"\n      <mac address='{macs[i]}'/>" + xml[at..];
        }
        return xml;
    }

    /// <summary>The domain with every device removed whose removal keeps the failure (one pass, greedy): the fixture to add.</summary>
    private static string Shrink(string xml, Func<string, bool> stillFails)
    {
        var devices = System.Text.RegularExpressions.Regex.Matches(xml, @"(?ms)^    <(\w+)\b[^\n]*?(/>\n|>\n.*?^    </\1>\n)").Select(m => m.Value).ToList();
        foreach (var device in devices)
        {
            var without = xml.Replace(device, "", StringComparison.Ordinal);
            if (without != xml && stillFails(without)) xml = without;
        }
        return xml;
    }
}
