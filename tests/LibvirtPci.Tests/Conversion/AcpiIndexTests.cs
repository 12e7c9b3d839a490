using LibvirtPci.Tools;
using System.Text;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Support;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Conversion;

/// <summary>--acpi-index: every NIC gets one, the ledger keeps them, and what cannot work is refused in words.</summary>
public sealed class AcpiIndexTests
{
    private const string Nic1 = "<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/><model type='virtio'/></interface>";
    private const string Nic2 = "<interface type='network'><mac address='52:54:00:00:00:02'/><source network='default'/><model type='e1000'/></interface>";
    private const string Nic3 = "<interface type='network'><mac address='52:54:00:00:00:03'/><source network='default'/><model type='virtio'/></interface>";

    private static string Domain(string machine, string devices, bool acpi = true) =>
        $"<domain type='kvm'>\n  <name>n</name>\n  <memory unit='MiB'>512</memory>\n  <os>\n    <type arch='x86_64' machine='{machine}'>hvm</type>\n  </os>\n{(acpi ? "  <features><acpi/></features>\n" : "")}  <devices>\n    {devices}\n  </devices>\n</domain>\n";

    private static string Run(string xml, string libvirt = "9.0") =>
        Rewriter.Assign(SourceText.FromString("n.xml", xml), new RewriteOptions { AcpiIndex = true, Libvirt = global::LibvirtPci.Addressing.LibvirtProfile.For(Version.Parse(libvirt)) }).Text;

    private static Dictionary<string, string> Indexes(string xml) =>
        global::LibvirtPci.Domain.DomainDefinition.Parse(SourceText.FromString("n.xml", xml)).Devices.Where(d => d.Kind == "interface")
            .ToDictionary(d => d.Key, d => d.Element.Element("acpi")!.Attr("index")!);

    [Fact]
    public void Every_nic_gets_one_kept_across_removal_and_never_given_to_another_mac()
    {
        var first = Run(Domain("q35", Nic1 + "\n    " + Nic2));
        Assert.Equal(new Dictionary<string, string> { ["interface/52:54:00:00:00:01"] = "1", ["interface/52:54:00:00:00:02"] = "2" }, Indexes(first));
        Assert.Contains("<pci:acpi key='interface/52:54:00:00:00:01' index='1'/>", first);
        // a plain run (no flag) on a domain whose ledger holds indexes changes nothing
        Assert.False(Rewriter.Assign(SourceText.FromString("n.xml", first), ToolTarget.Options).Changed);

        // NIC 1 removed, NIC 3 added: 3 does not get 1's index
        var without1 = DomainEdit.Remove(first, "interface/52:54:00:00:00:01");
        var with3 = Rewriter.Assign(SourceText.FromString("n.xml", without1.Replace("</devices>", Nic3 + "\n  </devices>", StringComparison.Ordinal)), ToolTarget.Options).Text;
        Assert.Equal("3", Indexes(with3)["interface/52:54:00:00:00:03"]);
        Assert.Equal("2", Indexes(with3)["interface/52:54:00:00:00:02"]);
        // NIC 1 comes back, without its <acpi>: it gets 1 again
        var back = Rewriter.Assign(SourceText.FromString("n.xml", with3.Replace("</devices>", Nic1 + "\n  </devices>", StringComparison.Ordinal)), ToolTarget.Options).Text;
        Assert.Equal("1", Indexes(back)["interface/52:54:00:00:00:01"]);
    }

    [Theory]
    [InlineData("q35", true, "7.0", "LP250: ACPI indexes need libvirt 7.3 or newer; libvirt 7.0 does not know <acpi index>")]
    [InlineData("q35", false, "9.0", "LP251: the domain has no ACPI (<features><acpi/>): the guest would not see an ACPI index")]
    [InlineData("pc-q35-5.2", true, "9.0", "LP252: machine 'pc-q35-5.2' has no ACPI hotplug on PCIe ports")]
    public void What_cannot_work_is_refused_in_words(string machine, bool acpi, string libvirt, string message)
    {
        var e = Assert.Throws<InputException>(() => Run(Domain(machine, Nic1, acpi), libvirt));
        Assert.Contains(message, string.Join("\n", e.Errors.Select(f => f.Code + ": " + f.Message)));
    }

    [Fact]
    public void Duplicate_indexes_are_refused_like_libvirt_refuses_them()
    {
        var dup = Domain("pc", Nic1.Replace("</interface>", "<acpi index='4'/></interface>", StringComparison.Ordinal) + Nic2.Replace("</interface>", "<acpi index='4'/></interface>", StringComparison.Ordinal));
        Assert.Equal("LP253", Assert.Throws<InputException>(() => Run(dup)).Errors[0].Code);
    }
}

/// <summary>The convert command as users run it.</summary>
[Trait("Category", "Cli")]
public sealed class ConvertCommandTests
{
    private static string Fixture => Path.Combine(Paths.Fixtures, "convert", "pc-windows.xml");

    [Fact]
    public void Stdout_gets_the_q35_xml_and_stderr_the_view()
    {
        var r = Support.Cli.Run("convert", "--to", "q35", "--libvirt-version", "9.0", Fixture);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(Paths.Fixtures, "convert", "pc-windows.q35.approved.xml")), r.StdoutBytes);
        Assert.Contains("pc-windows.xml: pc-i440fx-7.2 -> pc-q35-7.2 (libvirt 9.0 (from --libvirt-version)); an address ledger is started", r.Stderr);
        Assert.Contains("Linux NIC name ens3 -> ens1", r.Stderr); // pc with ACPI: a hotplug slot name; q35: the pcie-to-pci-bridge's slot 1 (both booted: GuestGroundTruthTests)
        // the fixture records no OS (no libosinfo metadata): the note is conditional, never a guess
        Assert.Contains("IDE → SATA (AHCI), controller 0 unit 0: the guest needs an AHCI driver (a Windows guest: enable storahci before the first q35 boot; the domain does not say its OS)", r.Stderr);
        Assert.Contains("dropped: controller ide index 0", r.Stderr);
    }

    [Fact]
    public void In_place_json_and_refusals()
    {
        using var dir = new TempDir();
        var vm = dir.CopyFixture("convert/pc-windows.xml", "vm.xml");
        var json = Support.Cli.Run("convert", "--to", "q35", "--json", "--acpi-index", vm);
        Assert.True(json.ExitCode == 0, json.Stderr);
        using (var doc = System.Text.Json.JsonDocument.Parse(json.Stdout))
        {
            var file = doc.RootElement.GetProperty("files")[0];
            Assert.Equal("pc-q35-7.2", file.GetProperty("machineAfter").GetString());
            Assert.Contains(file.GetProperty("devices").EnumerateArray(), d => d.GetProperty("key").GetString() == "disk/hda" && d.GetProperty("modelAfter").GetString() == "sata");
        }
        Assert.Equal(File.ReadAllBytes(Fixture), File.ReadAllBytes(vm)); // --json writes nothing
        var inPlace = Support.Cli.Run("convert", "--to", "q35", "-i", "--acpi-index", vm);
        Assert.True(inPlace.ExitCode == 0, inPlace.Stderr);
        Assert.Contains("<acpi index='1'/>", File.ReadAllText(vm));
        Assert.Contains("pc-i440fx-7.2 -> pc-q35-7.2", inPlace.Stdout); // the view on stdout when the XML goes to the file

        // The conversion's output converted again: nothing to convert, the same bytes (a fixed point).
        var again = Support.Cli.Run("convert", "--to", "q35", "--acpi-index", vm);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("already pc-q35-7.2: nothing to convert", again.Stderr);
        Assert.Equal(File.ReadAllText(vm), again.Stdout);
        var noTarget = Support.Cli.Run("convert", vm);
        Assert.Equal(2, noTarget.ExitCode);
        Assert.Equal("libvirt-pci: error LP001: convert needs --to q35 (see libvirt-pci convert --help)\n", noTarget.Stderr);
    }
}
