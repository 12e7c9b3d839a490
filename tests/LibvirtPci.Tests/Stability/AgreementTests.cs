using LibvirtPci.Tools;
using LibvirtPci.Conversion;
using LibvirtPci.Domain;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Support;
using LibvirtPci.Xml;
using static LibvirtPci.Tests.Support.DomainEdit;

namespace LibvirtPci.Tests.Stability;

/// <summary>
/// The three ways wave 2 contradicted libvirt or itself, each shrunk to the devices that matter
/// (found on domains stored by real daemons; the differential harness finds their kind).
/// </summary>
public sealed class AgreementTests
{
    private static readonly string Ehci1Alone = DomainXml("q35", "<controller type='usb' model='ich9-ehci1'/>", Nic("52:54:00:00:00:01"));

    [Theory]
    [InlineData("<controller type='usb' model='ich9-ehci1'/>")]
    [InlineData("<controller type='usb' index='0' model='ich9-ehci1'/>")]
    [InlineData("<controller type='usb' model='ich9-ehci1'/>\n<controller type='usb' model='ich9-uhci2'>\n\t<master startport='2'/>\n</controller>")]
    public void An_ehci1_without_companions_at_function_7_is_a_warning_and_the_output_a_fixed_point(string usb)
    {
        var xml = DomainXml("q35", usb, Nic("52:54:00:00:00:01"));
        foreach (bool stable in new[] { false, true })
        {
            var first = Plan(xml, stable);
            Assert.DoesNotContain(first.Findings, f => f.Severity == Severity.Error);
            var lp304 = Assert.Single(first.Findings, f => f.Code == "LP304"); // said once
            Assert.Equal(Severity.Warning, lp304.Severity);
            var second = Plan(first.Text, stable);
            Assert.False(second.Changed, TextDiff.Unified(first.Text, second.Text));
            Assert.DoesNotContain(second.Findings, f => f.Code is "LP503" or "LP502" || f.Severity == Severity.Error);
        }
    }

    [Fact]
    public void Root_ports_at_functions_above_0_with_function_0_left_to_libvirt_are_not_refused()
    {
        string Port(int index, int function) =>
            $"<controller type='pci' index='{index}' model='pcie-root-port'>\n\t<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x{function}'/>\n</controller>";
        var xml = DomainXml("q35", Port(1, 2), Port(2, 4), Disk("vda"));
        var plan = Plan(xml, stable: false);
        Assert.DoesNotContain(plan.Findings, f => f.Severity == Severity.Error);
        Assert.False(Plan(plan.Text, stable: false).Changed);
        var lint = Rewriter.Lint(Parse(plan.Text), new RewriteOptions() { Libvirt = ToolTarget.Libvirt90 });
        Assert.DoesNotContain(lint, f => f.Severity == Severity.Error);
    }

    [Fact]
    public void A_ledger_written_by_0_2_0_with_the_ehci_model_in_its_key_is_repaired_without_LP503()
    {
        // What 0.2.0 wrote on its second --stable run: the master under two keys.
        var once = Assign(Ehci1Alone);
        var ehci = Parse(once).Devices.Single(d => d.Key == "controller/usb/0").Address.Pci;
        var legacy = once.Replace("key='controller/usb/0'", "key='controller/usb/0/ich9-ehci1'", StringComparison.Ordinal)
            .Replace("</pci:ledger>", $"  <pci:released key='controller/usb/0' address='{ehci}' taken-by='controller/usb/0/ich9-ehci1'/>\n    </pci:ledger>", StringComparison.Ordinal);
        Assert.NotEqual(once, legacy);
        var repaired = Plan(legacy);
        Assert.DoesNotContain(repaired.Findings, f => f.Code is "LP503" or "LP502" or "LP504");
        Assert.Equal(once, repaired.Text);
    }

    [Fact]
    public void A_NIC_libvirt_gives_a_MAC_keeps_its_ledger_entry_and_the_stored_document_its_bytes()
    {
        var xml = DomainXml("q35", "<interface type='network'>\n\t<source network='default'/>\n\t<model type='virtio'/>\n</interface>", Disk("vda"))
            .Replace("  <devices>", "  <features><acpi/></features>\n  <devices>", StringComparison.Ordinal);
        var ours = Rewriter.Assign(SourceText.FromString("t.xml", xml), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, Stable = true, AcpiIndex = true }).Text;
        Assert.Contains("key='interface/virtio#0'", ours);
        // libvirt stores it with a MAC of its own
        var stored = ours.Replace("<source network='default'/>", "<mac address='52:54:00:aa:bb:cc'/>\n      <source network='default'/>", StringComparison.Ordinal);
        var again = Rewriter.Assign(SourceText.FromString("t.xml", stored), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, Stable = true, AcpiIndex = true });
        Assert.False(again.Changed, TextDiff.Unified(stored, again.Text));
        Assert.DoesNotContain(again.Findings, f => f.Severity >= Severity.Warning);
    }

    [Fact]
    public void Only_NICs_on_PCI_get_an_ACPI_index()
    {
        // libvirt 11.3 puts usb-net on USB and refuses an ACPI index there ("ACPI index is only supported for PCI devices")
        var xml = DomainXml("q35", Nic("52:54:00:00:00:01"), Nic("52:54:00:00:00:02", "usb-net"))
            .Replace("  <devices>", "  <features><acpi/></features>\n  <devices>", StringComparison.Ordinal);
        var plan = Rewriter.Assign(SourceText.FromString("t.xml", xml), new RewriteOptions { AcpiIndex = true, Libvirt = global::LibvirtPci.Addressing.LibvirtProfile.For(new Version(11, 3)) });
        var indexed = Parse(plan.Text).Devices.Where(d => d.Element.Element("acpi") is not null).Select(d => d.Key);
        Assert.Equal(["interface/52:54:00:00:00:01"], indexed);
    }

    [Fact]
    public void Converted_IDE_disks_take_SATA_units_no_other_disk_has()
    {
        var pc = DomainXml("pc", Disk("hda", "ide"), Disk("sda", "sata"), Disk("hdb", "ide"), Disk("sdc", "sata"), Disk("hdd", "ide"));
        var q35 = Q35Conversion.Convert(Parse(pc), new RewriteOptions { Libvirt = global::LibvirtPci.Addressing.LibvirtProfile.For(new Version(9, 0)) });
        var units = Parse(q35.Text).Devices.Where(d => d.Kind == "disk").ToDictionary(d => d.TargetDev!, d => d.Address.Element?.Attr("unit"));
        // sda holds unit 0 and sdc unit 2 by their names; hdb and hdd keep theirs (1, 3), hda gives way
        Assert.Equal(new Dictionary<string, string?> { ["hda"] = "4", ["sda"] = null, ["hdb"] = "1", ["sdc"] = null, ["hdd"] = "3" }, units);
        Assert.Equal(q35.Text, Q35Conversion.Convert(Parse(q35.Text), new RewriteOptions { Libvirt = global::LibvirtPci.Addressing.LibvirtProfile.For(new Version(9, 0)) }).Text);
    }
}
