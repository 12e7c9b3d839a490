using System.Text;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Cli;

/// <summary>
/// migrate's lines through a virsh of the test's own (a shell script that keeps what is defined
/// in a file): each finding names its domain once, after the counter; the summary counts in words.
/// </summary>
[Trait("Category", "Cli")]
public sealed class MigrateMessageTests
{
    private const string Domain = """
        <domain type='kvm'>
          <name>vm1</name>
          <memory unit='MiB'>512</memory>
          <os>
            <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
          </os>
          <devices>
            <controller type='pci' index='0' model='pcie-root'/>
            <interface type='network'>
              <mac address='52:54:00:00:00:01'/>
              <source network='default'/>
              <model type='e1000e'/>
              <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x1'/>
            </interface>
          </devices>
        </domain>

        """;

    [Fact]
    public void A_finding_names_its_domain_once_and_one_domain_is_one_domain()
    {
        using var dir = new TempDir();
        var virsh = FakeVirsh(dir, Domain);
        var binary = Support.Cli.ExternalBinary ?? Path.Combine(AppContext.BaseDirectory, "libvirt-pci");
        var r = Proc.Run(binary, ["migrate", "--all", "--virsh", virsh, "--backup-dir", Path.Combine(dir.Path, "backups")]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("[1/1] vm1:13:7: warning LP304", r.Err); // the line and column in what virsh printed
        Assert.DoesNotContain("vm1: vm1:", r.Err);
        Assert.Contains("libvirt-pci migrate: 1 domain, 1 changed, 0 unchanged, 0 failed", r.Err);
    }

    [Fact]
    public void Acpi_indexes_rename_nics_in_the_guest_so_migrate_defines_them_only_when_accepted()
    {
        using var dir = new TempDir();
        var stored = Domain.Replace("  <devices>", "  <features><acpi/></features>\n  <devices>", StringComparison.Ordinal)
            .Replace("slot='0x03' function='0x1'", "slot='0x03' function='0x0'", StringComparison.Ordinal);
        var virsh = FakeVirsh(dir, stored);
        var binary = Support.Cli.ExternalBinary ?? Path.Combine(AppContext.BaseDirectory, "libvirt-pci");
        var refused = Proc.Run(binary, ["migrate", "--all", "--acpi-index", "--json", "--virsh", virsh, "--backup-dir", Path.Combine(dir.Path, "backups")]);
        Assert.Equal(4, refused.Code);
        Assert.Contains("Linux renames the NIC enp0s3 → eno1", refused.Err);
        Assert.Contains("error LP134: not defined", refused.Err);
        var json = System.Text.Json.JsonDocument.Parse(refused.Out).RootElement.GetProperty("domains")[0];
        Assert.Equal("failed", json.GetProperty("status").GetString());
        var change = json.GetProperty("guestVisibleChanges")[0];
        Assert.Equal("interface/52:54:00:00:00:01", change.GetProperty("key").GetString());
        Assert.Equal("eno1", change.GetProperty("after").GetProperty("linuxName").GetString());
        Assert.Equal(stored, File.ReadAllText(Path.Combine(dir.Path, "state", "vm1.xml"))); // nothing defined

        var accepted = Proc.Run(binary, ["migrate", "--all", "--acpi-index", "--accept-guest-changes", "--virsh", virsh, "--backup-dir", Path.Combine(dir.Path, "backups")]);
        Assert.True(accepted.Code == 0, accepted.Err);
        Assert.Contains("<acpi index='1'/>", File.ReadAllText(Path.Combine(dir.Path, "state", "vm1.xml")));
    }

    /// <summary>A one-domain libvirt: a shell script that keeps what is defined in a file.</summary>
    private static string FakeVirsh(TempDir dir, string domain)
    {
        dir.File("state/vm1.xml", Encoding.UTF8.GetBytes(domain));
        var virsh = dir.File("virsh", Encoding.UTF8.GetBytes($$"""
            #!/bin/sh
            # a one-domain libvirt: what is defined is kept in {{dir.Path}}/state
            while [ "$1" = -c ] || [ "$1" = -q ]; do [ "$1" = -c ] && shift; shift; done
            case "$1" in
              list) echo vm1 ;;
              version) echo "Running against daemon: 9.0.0" ;;
              dumpxml) cat "{{dir.Path}}/state/vm1.xml" ;;
              define) cp "$2" "{{dir.Path}}/state/vm1.xml" ;;
              domstate) echo "shut off" ;;
              *) echo "unexpected: $*" >&2; exit 1 ;;
            esac

            """));
        File.SetUnixFileMode(virsh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return virsh;
    }
}

/// <summary>A success line says what changed, not "this or that".</summary>
[Trait("Category", "Cli")]
public sealed class SuccessLineTests
{
    [Fact]
    public void In_place_says_which_parts_it_updated()
    {
        using var dir = new TempDir();
        var vm = dir.CopyFixture("convert/pc-windows.xml", "vm.xml");
        Assert.Equal($"{vm}: updated the address ledger\n", Support.Cli.Run("-i", "--stable", vm).Stderr);
        Assert.Equal($"{vm}: updated the address ledger and ACPI indexes\n", Support.Cli.Run("-i", "--acpi-index", vm).Stderr);
        var q35 = dir.CopyFixture("examples/q35-web.xml", "q35.xml");
        Assert.Contains($"{q35}: assigned ", Support.Cli.Run("-i", q35).Stderr);
        Assert.EndsWith($"{q35}: updated the io-reserve passthrough\n", Support.Cli.Run("-i", "--io-reserve", "off", q35).Stderr);
    }
}
