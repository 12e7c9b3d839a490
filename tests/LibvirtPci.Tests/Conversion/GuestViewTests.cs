using System.Text;
using System.Text.Json;
using LibvirtPci.Domain;
using LibvirtPci.Tests.Support;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Conversion;

/// <summary>
/// Every view of the guest names a NIC the same way: with an ACPI index systemd's onboard name
/// enoN (it wins over the path name), else enpXsY at the address the firmware numbers; tree,
/// tree --json, the DOT picture and convert's view agree on each NIC of a converted domain. What
/// is OS-specific is said only where the domain records its OS (libosinfo metadata).
/// </summary>
[Trait("Category", "Cli")]
public sealed class GuestViewTests
{
    [Fact]
    public void Tree_json_dot_and_the_convert_view_name_every_nic_alike_and_honour_acpi_indexes()
    {
        using var dir = new TempDir();
        var vm = dir.CopyFixture("convert/pc-windows.xml", "vm.xml");
        var convert = Support.Cli.Run("convert", "--to", "q35", "--acpi-index", "--libvirt-version", "9.0", vm);
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        var q35 = dir.File("q35.xml", convert.StdoutBytes);
        var domain = DomainDefinition.Parse(SourceText.FromBytes(q35, convert.StdoutBytes));
        var nics = domain.Devices.Where(d => d.Kind == "interface" && d.Address.IsPciPresent).ToList();
        Assert.NotEmpty(nics);

        using var json = JsonDocument.Parse(Support.Cli.Run("tree", "--json", "--libvirt-version", "9.0", q35).Stdout);
        var jsonNames = new List<string>();
        void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Object)
            {
                if (e.TryGetProperty("linuxName", out var n)) jsonNames.Add(n.GetString()!);
                foreach (var p in e.EnumerateObject()) Walk(p.Value);
            }
            else if (e.ValueKind == JsonValueKind.Array) foreach (var x in e.EnumerateArray()) Walk(x);
        }
        Walk(json.RootElement);
        var text = Support.Cli.Run("tree", "--libvirt-version", "9.0", q35).Stdout;
        var dot = Support.Cli.Run("tree", "--format", "dot", "--libvirt-version", "9.0", q35).Stdout;
        for (int i = 0; i < nics.Count; i++)
        {
            var index = nics[i].Element.Element("acpi")?.Attr("index");
            Assert.NotNull(index);
            var name = $"eno{index}";
            Assert.Contains(name, jsonNames);
            Assert.Contains(" " + name, text);
            Assert.Contains(" " + name, dot);
            Assert.Contains($"-> {name}", convert.Stderr);
        }
        Assert.Equal(nics.Count, jsonNames.Count);
        Assert.DoesNotContain("unless it has an ACPI index", convert.Stderr);
    }

    [Theory]
    [InlineData("http://microsoft.com/win/10", "Windows needs its AHCI driver (storahci) enabled before the first q35 boot")]
    [InlineData("http://debian.org/debian/12", "the guest (http://debian.org/debian/12) finds the disk through its AHCI driver")]
    public void The_sata_note_speaks_of_the_os_the_domain_records(string os, string note)
    {
        var xml = File.ReadAllText(Path.Combine(Paths.Fixtures, "convert", "pc-windows.xml"));
        var withOs = xml.Replace("<memory", $"<metadata>\n    <libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>\n      <libosinfo:os id='{os}'/>\n    </libosinfo:libosinfo>\n  </metadata>\n  <memory", StringComparison.Ordinal);
        Assert.NotEqual(xml, withOs);
        var r = Support.Cli.RunWithStdin(Encoding.UTF8.GetBytes(withOs), "convert", "--to", "q35", "--libvirt-version", "9.0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains(note, r.Stderr);
        Assert.Equal(os.Contains("microsoft", StringComparison.Ordinal), r.Stderr.Contains("storahci", StringComparison.Ordinal));
    }
}
