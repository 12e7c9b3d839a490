using LibvirtPci.Tools;
using LibvirtPci.Addressing;
using LibvirtPci.Guest;
using LibvirtPci.Conversion;
using LibvirtPci.Domain;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Integration;
using LibvirtPci.Tests.Support;
using LibvirtPci.Xml;
using Xunit.Abstractions;

namespace LibvirtPci.Tests.Conversion;

/// <summary>
/// A converted domain boots, and the ACPI indexes we wrote reach the guest: the pc Windows-style
/// fixture (IDE disks, e1000 and virtio NICs), converted with --acpi-index, booted through the
/// sandbox libvirt with SeaBIOS and with OVMF (tools/libvirt-boot-probe.sh); the tiny Linux
/// guest lists every PCI function with its acpi_index from sysfs, and each NIC, found at the bus
/// number the firmware gives (GuestNumbering), has the index we wrote.
/// </summary>
[Trait("Category", "Integration")]
[Collection("libvirt")]
public sealed class ConvertedBootTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData("seabios")]
    [InlineData("ovmf")]
    public void A_converted_domain_boots_and_its_nics_carry_our_acpi_indexes(string firmware)
    {
        Sandbox.Require();
        Require.Available(File.Exists("/usr/share/OVMF/OVMF_CODE_4M.fd") && Directory.GetFiles("/boot", "vmlinuz-*").Length > 0 && File.Exists("/bin/busybox")
            ? null : "the boot probe needs ovmf, a kernel in /boot and busybox-static");
        var pcPath = Path.Combine(Paths.Fixtures, "convert", "pc-windows.xml");
        var plan = Q35Conversion.Convert(DomainDefinition.Parse(SourceText.FromBytes(pcPath, File.ReadAllBytes(pcPath))), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, AcpiIndex = true });
        using var dir = new TempDir();
        var file = dir.File("q35.xml", plan.Bytes);
        var probe = Proc.Run("bash", [Path.Combine(Paths.Tools, "libvirt-boot-probe.sh"), file, firmware]);
        output.WriteLine(probe.Out + probe.Err);
        Assert.True(probe.Code == 0 && probe.Out.StartsWith("boot=ok", StringComparison.Ordinal), probe.Out + probe.Err);
        var seen = probe.Out.Split('\n').Where(l => l.StartsWith("dev ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')).ToDictionary(p => p[1], p => (Class: p[2]["class=".Length..], Index: p[4]["acpi_index=".Length..]));

        var q35 = DomainDefinition.Parse(SourceText.FromString("q35.xml", plan.Text));
        var buses = GuestNumbering.Buses(q35);
        var nics = q35.Devices.Where(d => d.Kind == "interface").ToList();
        Assert.Equal(2, nics.Count);
        foreach (var nic in nics)
        {
            var a = nic.Address.Pci;
            var bdf = $"{buses[a.Bus]:x2}:{a.Slot:x2}.{a.Function:x}";
            Assert.True(seen.TryGetValue(bdf, out var dev), $"{nic.Key}: nothing at {bdf} in the guest");
            Assert.StartsWith("0x0200", dev.Class);
            Assert.Equal(nic.Element.Element("acpi")!.Attr("index"), dev.Index);
        }
        Assert.Equal("0x010601", seen["00:1f.2"].Class); // the IDE disks' new home: q35's AHCI
    }
}
