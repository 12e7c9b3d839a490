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
        var wrapper = RefusingVirsh.Write(dir, "refuse-me");

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
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(backups, n + ".xml"))); // secrets stay private
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(backups));
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

    /// <summary>
    /// migrate -c qemu+ssh://root@127.0.0.1:PORT/system: libvirt's ssh transport through an sshd the
    /// test starts (own host key, checked; own authorized key; own port), to the sandbox's socket.
    /// </summary>
    [SkippableFact]
    public void Migrate_over_qemu_ssh_through_a_loopback_sshd()
    {
        Sandbox.Require();
        LoopbackSsh.Require();
        using var dir = new TempDir();
        using var sshd = new LoopbackSsh(dir);
        var local = Sandbox.Uri;
        var socket = local[(local.IndexOf("socket=", StringComparison.Ordinal) + "socket=".Length)..];
        var remote = $"qemu+ssh://root@127.0.0.1:{sshd.Port}/system?socket={socket}&proxy=netcat&command={sshd.SshCommand}";
        var binary = Path.Combine(AppContext.BaseDirectory, "libvirt-pci");
        string[] names = ["ssh-q35-a", "ssh-pc-b"];
        try
        {
            for (int i = 0; i < names.Length; i++)
            {
                var xml = new DomainGenerator(800 + i).Generate(new DomainGenerator.Options(Machine: names[i].Contains("pc") ? "pc" : "q35"))
                    .Replace($"<name>gen-{800 + i}</name>", $"<name>{names[i]}</name>", StringComparison.Ordinal);
                Assert.Equal(0, Run("virsh", "-c", local, "define", dir.File($"{names[i]}.xml", System.Text.Encoding.UTF8.GetBytes(xml))).Code);
            }
            var before = names.ToDictionary(n => n, n => PciFacts.Of(Run("virsh", "-q", "-c", local, "dumpxml", "--inactive", n).Out));
            var r = Run(binary, ["migrate", "-c", remote, .. names, "--backup-dir", Path.Combine(dir.Path, "backups")]);
            output.WriteLine(r.Err);
            Assert.True(r.Code == 0, r.Err);
            Assert.Contains($"(from the daemon at {remote}, libvirt 9.0.0)", r.Err);
            Assert.Contains("2 domains, 2 changed, 0 unchanged, 0 failed", r.Err);
            foreach (var n in names)
            {
                var now = Run("virsh", "-q", "-c", local, "dumpxml", "--inactive", n).Out;
                Assert.Contains("urn:libvirt-pci:ledger:1", now);
                Assert.Empty(PciFacts.Diff(before[n], PciFacts.Of(now).Where(f => before[n].ContainsKey(f.Key)).ToDictionary()));
            }
        }
        finally
        {
            foreach (var n in names) Run("virsh", "-c", local, "undefine", n);
        }
    }

    /// <summary>migrate --convert-to-q35 --acpi-index on the real daemon: the pc domain is defined anew as q35 with every device, identity and an ACPI index per NIC, libvirt stores our addresses, the original is backed up; a q35 domain is only recorded.</summary>
    [SkippableFact]
    public void Migrate_converts_pc_domains_to_q35_with_acpi_indexes()
    {
        Sandbox.Require();
        var uri = Sandbox.Uri;
        using var dir = new TempDir();
        var binary = Path.Combine(AppContext.BaseDirectory, "libvirt-pci");
        var pc = File.ReadAllText(Path.Combine(Paths.Fixtures, "convert", "pc-windows.xml")).Replace("type='kvm'", "type='qemu'", StringComparison.Ordinal)
            .Replace("<name>win10</name>", "<name>conv-win</name>", StringComparison.Ordinal);
        pc = System.Text.RegularExpressions.Regex.Replace(pc, @"\s*<uuid>[^<]*</uuid>", "");
        var q35 = File.ReadAllText(Path.Combine(Paths.Fixtures, "examples", "q35-web.xml")).Replace("type='kvm'", "type='qemu'", StringComparison.Ordinal)
            .Replace("<name>q35-web</name>", "<name>conv-web</name>", StringComparison.Ordinal)
            .Replace("  <devices>", "  <features><acpi/></features>\n  <devices>", StringComparison.Ordinal); // ACPI indexes need ACPI (LP251 otherwise)
        string[] names = ["conv-win", "conv-web"];
        try
        {
            Assert.Equal(0, Run("virsh", "-c", uri, "define", dir.File("pc.xml", System.Text.Encoding.UTF8.GetBytes(pc))).Code);
            Assert.Equal(0, Run("virsh", "-c", uri, "define", dir.File("q35.xml", System.Text.Encoding.UTF8.GetBytes(q35))).Code);
            var before = PciFacts.Of(Run("virsh", "-q", "-c", uri, "dumpxml", "--inactive", "conv-web").Out);
            // the q35 domain is not converted: its NICs' new ACPI indexes rename them in the guest (enoN), which migrate defines only when accepted
            var refused = Run(binary, ["migrate", "-c", uri, "--convert-to-q35", "--acpi-index", "conv-web", "--backup-dir", Path.Combine(dir.Path, "backups")]);
            Assert.Equal(4, refused.Code);
            Assert.Contains("LP134", refused.Err);
            Assert.Contains("Linux renames the NIC enp", refused.Err);
            Assert.Empty(PciFacts.Diff(before, PciFacts.Of(Run("virsh", "-q", "-c", uri, "dumpxml", "--inactive", "conv-web").Out))); // not defined
            var r = Run(binary, ["migrate", "-c", uri, "--convert-to-q35", "--acpi-index", "--accept-guest-changes", .. names, "--backup-dir", Path.Combine(dir.Path, "backups")]);
            output.WriteLine(r.Err);
            Assert.True(r.Code == 0, r.Err);
            Assert.Contains("conv-win: pc-i440fx-7.2 -> pc-q35-7.2", r.Err);
            Assert.Contains("2 domains, 2 changed, 0 unchanged, 0 failed", r.Err);
            var win = Run("virsh", "-q", "-c", uri, "dumpxml", "--inactive", "conv-win").Out;
            Assert.Contains("machine='pc-q35-7.2'", win);
            Assert.Contains("<target dev='hda' bus='sata'/>", win);
            Assert.Contains("<serial>WIN10-SYSTEM</serial>", win);
            Assert.Contains("<model type='e1000'/>", win);
            Assert.Contains("<acpi index='1'/>", win);
            var stored = DomainDefinition.Parse(SourceText.FromString("win", win));
            Assert.Equal(1, AddressLedger.Read(stored.Document, AddressLedger.FindInMetadata(stored)!).AcpiIndexes["interface/52:54:00:6b:3c:01"]);
            Assert.True(File.Exists(Path.Combine(dir.Path, "backups", "conv-win.xml")));
            var web = Run("virsh", "-q", "-c", uri, "dumpxml", "--inactive", "conv-web").Out;
            Assert.Contains("machine='pc-q35-", web);
            Assert.Empty(PciFacts.Diff(before, PciFacts.Of(web).Where(f => before.ContainsKey(f.Key)).ToDictionary())); // q35: nothing moved
        }
        finally
        {
            foreach (var n in names) Run("virsh", "-c", uri, "undefine", n);
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

/// <summary>
/// A thin virsh wrapper: forwards everything to the real virsh but refuses to define the
/// rewritten XML (the one with our ledger) of one domain, as libvirt refuses a definition, so
/// that migrate's rollback runs against the real daemon.
/// </summary>
public static class RefusingVirsh
{
    public static string Write(TempDir dir, string domain)
    {
        var wrapper = dir.File("virsh-refusing", System.Text.Encoding.UTF8.GetBytes($$"""
            #!/bin/bash
            for a in "$@"; do last=$a; done
            if printf '%s\n' "$@" | grep -qx define && grep -q '<name>{{domain}}</name>' "$last" && grep -q 'urn:libvirt-pci:ledger:1' "$last"; then
              echo "error: Failed to define domain from $last" >&2
              echo "error: XML error: refused (simulated libvirt refusal)" >&2
              exit 1
            fi
            exec virsh "$@"
            """));
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return wrapper;
    }
}
