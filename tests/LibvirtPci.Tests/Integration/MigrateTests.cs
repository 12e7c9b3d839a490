using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Stability;
using LibvirtPci.Tests.Support;
using LibvirtPci.Tools;
using LibvirtPci.Xml;
using Xunit.Abstractions;

namespace LibvirtPci.Tests.Integration;

/// <summary>
/// `libvirt-pci migrate` against the sandbox's real libvirt, through a real virsh. One domain's
/// define is refused by a thin virsh wrapper (it forwards everything else to the real virsh)
/// so that the rollback path runs against the real daemon.
/// </summary>
[Trait("Category", "Integration")]
[Collection("libvirt")]
public sealed class MigrateTests(ITestOutputHelper output)
{
    private static readonly string[] Names = { "mig-q35-a", "mig-pc-b", "mig-q35-c", "mig-pc-d", "mig-q35-e", "refuse-me" };

    private static Proc.Result Run(string file, params string[] args) => Proc.Run(file, args);

    [SkippableFact]
    public void Migrate_all_records_every_address_backs_up_and_rolls_back_a_refused_domain()
    {
        Sandbox.Require();
        var uri = Sandbox.Uri;
        using var dir = new TempDir();
        var binary = Path.Combine(AppContext.BaseDirectory, "libvirt-pci");
        var wrapper = dir.File("virsh-refusing", System.Text.Encoding.UTF8.GetBytes("""
            #!/bin/bash
            # Forwards to the real virsh; refuses to define the rewritten XML of domain "refuse-me",
            # as libvirt refuses a definition, so that migrate's rollback runs.
            for a in "$@"; do last=$a; done
            if printf '%s\n' "$@" | grep -qx define && grep -q '<name>refuse-me</name>' "$last" && grep -q 'urn:libvirt-pci:ledger:1' "$last"; then
              echo "error: Failed to define domain from $last" >&2
              echo "error: XML error: refused (simulated libvirt refusal)" >&2
              exit 1
            fi
            exec virsh "$@"
            """));
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        foreach (var leftover in Run("virsh", "-c", uri, "list", "--all", "--name").Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Run("virsh", "-c", uri, "undefine", leftover.Trim());
        var before = new Dictionary<string, string>();
        try
        {
            for (int i = 0; i < Names.Length; i++)
            {
                var xml = new DomainGenerator(500 + i).Generate(new DomainGenerator.Options(Machine: Names[i].Contains("pc") ? "pc" : "q35"))
                    .Replace($"<name>gen-{500 + i}</name>", $"<name>{Names[i]}</name>", StringComparison.Ordinal);
                var file = dir.File($"{Names[i]}.xml", System.Text.Encoding.UTF8.GetBytes(xml));
                Assert.Equal(0, Run("virsh", "-c", uri, "define", file).Code);
                before[Names[i]] = Run("virsh", "-q", "-c", uri, "dumpxml", "--inactive", Names[i]).Out;
            }

            // --dry-run changes nothing.
            var dry = Run(binary, "migrate", "-c", uri, "--all", "--dry-run", "--backup-dir", Path.Combine(dir.Path, "dry"));
            Assert.Equal(0, dry.Code);
            Assert.Contains("would change (dry run", dry.Err);
            Assert.False(Directory.Exists(Path.Combine(dir.Path, "dry")));
            foreach (var n in Names) Assert.Equal(before[n], Run("virsh", "-q", "-c", uri, "dumpxml", "--inactive", n).Out);

            var backups = Path.Combine(dir.Path, "backups");
            var r = Run(binary, "migrate", "-c", uri, "--all", "--backup-dir", backups, "--virsh", wrapper);
            output.WriteLine(r.Err);
            Assert.Equal(3, r.Code); // the refused domain makes it a virsh failure
            Assert.Contains("[6/6]", r.Err);
            Assert.Contains("refuse-me: error LP132", r.Err);
            Assert.Contains("6 domains, 5 changed, 0 unchanged, 1 failed", r.Err);

            foreach (var n in Names)
            {
                var now = Run("virsh", "-q", "-c", uri, "dumpxml", "--inactive", n).Out;
                Assert.True(File.Exists(Path.Combine(backups, n + ".xml")), $"no backup of {n}");
                Assert.Equal(before[n], File.ReadAllText(Path.Combine(backups, n + ".xml")));
                if (n == "refuse-me")
                {
                    Assert.Equal(before[n], now); // restored byte-identical
                    continue;
                }
                var old = PciFacts.Of(before[n]);
                var cur = PciFacts.Of(now);
                foreach (var (k, v) in old) Assert.True(cur.TryGetValue(k, out var c) && c == v, $"{n}: {k} was {v}, now {c}");
                var domain = DomainDefinition.Parse(SourceText.FromString("now", now));
                var ledger = AddressLedger.Read(domain.Document, AddressLedger.FindInMetadata(domain)!);
                Assert.All(domain.Devices.Where(d => d.Address.IsPciPresent && d.Kind != "console"), d => Assert.Equal(d.Address.Pci, ledger[d.Key]?.Address));
            }

            // Running it again finds nothing to do.
            var again = Run(binary, "migrate", "-c", uri, "mig-q35-a", "mig-pc-b", "--backup-dir", Path.Combine(dir.Path, "again"));
            Assert.Equal(0, again.Code);
            Assert.Contains("2 domains, 0 changed, 2 unchanged", again.Err);
        }
        finally
        {
            foreach (var n in Names) Run("virsh", "-c", uri, "undefine", n);
        }
    }

    /// <summary>migrate asks the daemon its version and reproduces that libvirt: 11.3 accepts virtio sound, which 9.0's profile refuses.</summary>
    [SkippableTheory]
    [InlineData("host", "9.0")]
    [InlineData("trixie", "11.3")]
    public void Migrate_reproduces_the_daemons_own_libvirt(string daemonName, string version)
    {
        var daemon = daemonName == "host" ? LibvirtDaemon.Host : LibvirtDaemon.Trixie;
        daemon.Require();
        var uri = daemon.Uri;
        using var dir = new TempDir();
        var binary = Path.Combine(AppContext.BaseDirectory, "libvirt-pci");
        string[] names = ["ver-q35-a", "ver-pc-b", "ver-q35-c"];
        try
        {
            for (int i = 0; i < names.Length; i++)
            {
                var xml = new DomainGenerator(700 + i).Generate(new DomainGenerator.Options(Machine: names[i].Contains("pc") ? "pc" : "q35", NewerDevices: version == "11.3"))
                    .Replace($"<name>gen-{700 + i}</name>", $"<name>{names[i]}</name>", StringComparison.Ordinal);
                Assert.Equal(0, Run("virsh", "-c", uri, "define", dir.File($"{names[i]}.xml", System.Text.Encoding.UTF8.GetBytes(xml))).Code);
            }
            var r = Run(binary, ["migrate", "-c", uri, .. names, "--backup-dir", Path.Combine(dir.Path, "backups")]);
            output.WriteLine(r.Err);
            Assert.True(r.Code == 0, r.Err);
            Assert.Contains($"libvirt-pci migrate: libvirt {version} (from the daemon at {uri}, libvirt {version}.0)", r.Err);
            Assert.Contains($"{names.Length} domains, {names.Length} changed, 0 unchanged, 0 failed", r.Err);
        }
        finally
        {
            foreach (var n in names) Run("virsh", "-c", uri, "undefine", "--nvram", n);
        }
    }
}

[CollectionDefinition("libvirt", DisableParallelization = true)]
public sealed class LibvirtCollection;
