using System.Xml.Linq;
using LibvirtPci.Stability;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Cli;

/// <summary>
/// The sidecar ledger (--ledger PATH) for inputs that must stay untouched: written and read with
/// System.Xml.Linq, rewritten only when its content changes, refused with a located message when it
/// is not a ledger.
/// </summary>
[Trait("Category", "Cli")]
public sealed class LedgerFileTests
{
    private static readonly XNamespace Ns = AddressLedger.Namespace;

    private const string SecondNic = """
    <interface type='network'>
      <mac address='52:54:00:12:34:02'/>
      <source network='default'/>
      <model type='e1000'/>
    </interface>

""";

    [Fact]
    public void A_sidecar_ledger_remembers_a_removed_device_and_gives_its_address_back()
    {
        using var dir = new TempDir();
        var vm = dir.CopyFixture("examples/q35-web.xml", "vm.xml");
        var ledger = Path.Combine(dir.Path, "vm.ledger.xml");

        var first = Support.Cli.Run("-i", "--ledger", ledger, vm);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.DoesNotContain("urn:libvirt-pci:ledger", File.ReadAllText(vm)); // the domain itself stays free of it
        var written = XDocument.Load(ledger);
        Assert.Equal(Ns + "ledger", written.Root!.Name);
        var nic = written.Root.Elements(Ns + "device").Single(e => (string?)e.Attribute("key") == "interface/52:54:00:12:34:02");
        var address = (string)nic.Attribute("address")!;
        var bytes = File.ReadAllBytes(ledger);

        Assert.Equal(0, Support.Cli.Run("-i", "--ledger", ledger, vm).ExitCode);
        Assert.Equal(bytes, File.ReadAllBytes(ledger)); // same content: the file is not rewritten

        // The NIC goes away (its slot is released, not reused), then comes back without an address.
        var addressed = File.ReadAllText(vm);
        var start = addressed.IndexOf("    <interface type='network'>\n      <mac address='52:54:00:12:34:02'/>", StringComparison.Ordinal);
        var end = addressed.IndexOf("</interface>\n", start, StringComparison.Ordinal) + "</interface>\n".Length;
        File.WriteAllText(vm, addressed.Remove(start, end - start));
        Assert.Equal(0, Support.Cli.Run("-i", "--ledger", ledger, vm).ExitCode);
        var released = XDocument.Load(ledger).Root!.Elements(Ns + "released").Single();
        Assert.Equal("interface/52:54:00:12:34:02", (string?)released.Attribute("key"));
        Assert.Equal(address, (string?)released.Attribute("address"));

        File.WriteAllText(vm, File.ReadAllText(vm).Replace("  </devices>", SecondNic + "  </devices>", StringComparison.Ordinal));
        var back = Support.Cli.Run("--json", "--ledger", ledger, vm);
        Assert.True(back.ExitCode == 0, back.Stderr);
        using var json = System.Text.Json.JsonDocument.Parse(back.Stdout);
        var device = json.RootElement.GetProperty("files")[0].GetProperty("devices").EnumerateArray()
            .Single(d => d.GetProperty("key").GetString() == "interface/52:54:00:12:34:02");
        Assert.Equal(address, device.GetProperty("address").GetString());
    }

    [Theory]
    [InlineData("<other/>", "LP402", "1:1")]
    [InlineData("<pci:ledger xmlns:pci='urn:libvirt-pci:ledger:1'>\n  <pci:device key='disk/vda'/>\n</pci:ledger>", "LP401", "2:3")]
    [InlineData("<!DOCTYPE x [<!ENTITY a 'b'>]><x/>", "LP402", "1:")]
    [InlineData("<pci:ledger xmlns:pci='urn:libvirt-pci:ledger:1'>", "LP402", "1:")]
    public void A_ledger_file_that_is_not_one_is_refused_with_its_place_and_nothing_is_written(string content, string code, string where)
    {
        using var dir = new TempDir();
        var vm = dir.CopyFixture("examples/q35-web.xml", "vm.xml");
        var ledger = dir.File("bad.ledger", System.Text.Encoding.UTF8.GetBytes(content));
        var before = File.ReadAllBytes(vm);
        var r = Support.Cli.Run("-i", "--ledger", ledger, vm);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"{ledger}:{where}", r.Stderr);
        Assert.Contains($"error {code}:", r.Stderr);
        Assert.Equal(before, File.ReadAllBytes(vm));
        Assert.Equal(content, File.ReadAllText(ledger));
    }
}
