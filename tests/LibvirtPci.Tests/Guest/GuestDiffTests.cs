using System.Text;
using System.Text.Json;
using LibvirtPci.Domain;
using LibvirtPci.Guest;
using LibvirtPci.Tests.Support;
using LibvirtPci.Tools;

namespace LibvirtPci.Tests.Guest;

/// <summary>`diff`: what the guest will see change. Properties over generated domains, then the CLI's contract.</summary>
public sealed class GuestDiffTests
{
    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, 40).Select(s => new object[] { s });

    private static string Generated(int seed) =>
        DomainEdit.Assign(new DomainGenerator(seed).Generate(new DomainGenerator.Options(MaxDevices: 25, Machine: seed % 2 == 0 ? "q35" : "pc")), stable: true);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_domain_against_itself_shows_nothing(int seed)
    {
        var xml = Generated(seed);
        Assert.Empty(GuestDiff.Compare(DomainEdit.Parse(xml), DomainEdit.Parse(xml)).Changes);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void With_the_ledger_adding_a_nic_changes_no_device_the_guest_has(int seed)
    {
        var before = Generated(seed);
        var after = DomainEdit.Assign(DomainEdit.Add(before, "<interface type='network'><mac address='52:54:00:ee:ee:01'/><source network='default'/><model type='virtio'/></interface>"), stable: true);
        var diff = GuestDiff.Compare(DomainEdit.Parse(before), DomainEdit.Parse(after));
        Assert.False(diff.HasIdentityChanges, DiffTable(diff));
        Assert.Contains(diff.Changes, c => c.Added && c.Key == "interface/52:54:00:ee:ee:01");
        Assert.All(diff.Changes, c => Assert.True(c.Added, c.Key)); // only additions (the NIC, maybe a port for it)
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_reported_change_is_a_real_difference_in_location_or_name(int seed)
    {
        var source = new DomainGenerator(seed).Generate(new DomainGenerator.Options(MaxDevices: 25, Machine: seed % 2 == 0 ? "q35" : "pc", AllowPresetAddresses: false));
        var before = DomainEdit.Assign(source, stable: false);
        var after = DomainEdit.Assign(source.Replace("<devices>", "<devices><interface type='network'><mac address='52:54:00:ee:ee:02'/><source network='default'/><model type='virtio'/></interface>", StringComparison.Ordinal), stable: false);
        var (b, a) = (GuestView.Of(DomainEdit.Parse(before)), GuestView.Of(DomainEdit.Parse(after)));
        var diff = GuestDiff.Compare(b, a);
        foreach (var key in b.Devices.Keys.Intersect(a.Devices.Keys))
        {
            bool differs = b[key]!.Location != a[key]!.Location || b[key]!.Nic?.Name != a[key]!.Nic?.Name || b[key]!.ByPath != a[key]!.ByPath;
            Assert.Equal(differs, diff.IdentityChanges.Any(c => c.Key == key));
        }
    }

    private static string DiffTable(GuestDiff diff) => string.Join("\n", diff.Changes.Select(c => $"{c.Key}: {c.Before?.Bdf} -> {c.After?.Bdf}"));

    private const string Web = DomainEdit.TwoNicQ35;

    [Fact]
    public void The_cli_prints_nothing_and_exits_0_for_a_file_against_itself()
    {
        using var dir = new TempDir();
        var file = dir.File("web.xml", Encoding.UTF8.GetBytes(DomainEdit.Assign(Web, stable: false)));
        var r = Support.Cli.Run("diff", file, file);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void The_cli_names_the_renamed_nics_and_the_cause_and_exits_1()
    {
        using var dir = new TempDir();
        var before = dir.File("before.xml", Encoding.UTF8.GetBytes(DomainEdit.Assign(Web, stable: false)));
        var inserted = Web.Replace("<devices>", "<devices>\n    <controller type='pci' index='0' model='pcie-root'/><controller type='pci' model='pcie-root-port'/><controller type='pci' model='pcie-to-pci-bridge'/>", StringComparison.Ordinal);
        var after = dir.File("after.xml", Encoding.UTF8.GetBytes(DomainEdit.Assign(inserted, stable: false)));
        var r = Support.Cli.Run("diff", before, after);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Linux renames the NIC enp1s0 → enp3s0", r.Stdout);
        Assert.Contains("Windows installs it as new hardware", r.Stdout);
        Assert.Contains("libvirt-pci -i --stable", r.Stdout);

        var json = JsonDocument.Parse(Support.Cli.Run("diff", "--json", before, after).Stdout).RootElement;
        Assert.True(json.GetProperty("guestVisibleChanges").GetBoolean());
        var nic = json.GetProperty("devices").EnumerateArray().Single(d => d.GetProperty("key").GetString() == "interface/52:54:00:00:00:01");
        Assert.Equal("enp1s0", nic.GetProperty("before").GetProperty("linuxName").GetString());
        Assert.Equal("enp3s0", nic.GetProperty("after").GetProperty("linuxName").GetString());
    }

    [Fact]
    public void Wrong_operands_are_a_usage_error()
    {
        var r = Support.Cli.Run("diff", "only-one.xml");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("LP001", r.Stderr);
    }

    [Fact]
    public void Nic_names_follow_udev_onboard_then_slot_then_path()
    {
        // pc with ACPI: bus 0's hotplug slots are named by slot (ens3); an ACPI index wins (eno7);
        // without the <acpi/> feature neither exists (enp0s3)
        const string pc = """
            <domain type='kvm'><name>pc</name><memory>524288</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features><devices>
              <interface type='network'><mac address='52:54:00:00:01:01'/><source network='default'/><model type='e1000'/><address type='pci' domain='0' bus='0' slot='3' function='0'/></interface>
              <interface type='network'><mac address='52:54:00:00:01:02'/><source network='default'/><model type='e1000'/><acpi index='7'/><address type='pci' domain='0' bus='0' slot='4' function='0'/></interface>
            </devices></domain>
            """;
        var view = GuestView.Of(DomainEdit.Parse(pc));
        Assert.Equal(("ens3", "enp0s3"), (view["interface/52:54:00:00:01:01"]!.Nic!.Name, view["interface/52:54:00:00:01:01"]!.Nic!.Path));
        Assert.Equal("eno7", view["interface/52:54:00:00:01:02"]!.Nic!.Name);
        var noAcpi = GuestView.Of(DomainEdit.Parse(pc.Replace("<features><acpi/></features>", "", StringComparison.Ordinal)));
        Assert.Equal("enp0s3", noAcpi["interface/52:54:00:00:01:01"]!.Nic!.Name);
        Assert.Equal("enp0s4", noAcpi["interface/52:54:00:00:01:02"]!.Nic!.Name);
    }
}
