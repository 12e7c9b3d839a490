using System.Text;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Cli;

/// <summary>.libvirt-pci.json: found by walking up from each input file; flags win over it; bad content is refused with its place.</summary>
[Trait("Category", "Cli")]
public sealed class ProjectSettingsTests
{
    public const string VirtioSound = "<domain type='kvm'>\n  <name>snd</name>\n  <memory unit='MiB'>512</memory>\n  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n    <sound model='virtio'/>\n  </devices>\n</domain>\n";

    [Fact]
    public void The_repository_file_can_turn_acpi_indexes_on()
    {
        using var dir = new TempDir();
        dir.File("fleet/.libvirt-pci.json", "{ \"acpiIndex\": true }\n"u8.ToArray());
        var vm = dir.CopyFixture("convert/pc-windows.xml", "fleet/vm.xml");
        var r = Support.Cli.Run("-i", vm);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("<acpi index='1'/>", File.ReadAllText(vm));
        Assert.Contains("<pci:acpi key='interface/52:54:00:6b:3c:02' index='2'/>", File.ReadAllText(vm));
    }

    [Fact]
    public void The_repository_file_pins_the_libvirt_and_a_flag_wins_over_it()
    {
        using var dir = new TempDir();
        var config = dir.File("fleet/.libvirt-pci.json", "{ \"libvirtVersion\": \"11.3\", \"stable\": true }\n"u8.ToArray());
        var vm = dir.File("fleet/web/vm.xml", Encoding.UTF8.GetBytes(VirtioSound));
        var elsewhere = dir.File("other/vm.xml", Encoding.UTF8.GetBytes(VirtioSound));
        dir.File("other/.libvirt-pci.json", "{ \"libvirtVersion\": \"9.0\" }\n"u8.ToArray());

        var json = Support.Cli.Run("--json", vm);
        Assert.True(json.ExitCode == 0, json.Stderr);
        using (var report = System.Text.Json.JsonDocument.Parse(json.Stdout))
        {
            var file = report.RootElement.GetProperty("files")[0];
            Assert.Equal("11.3", file.GetProperty("libvirt").GetString());
            Assert.Equal(config, file.GetProperty("libvirtFrom").GetString());
        }
        var explain = Support.Cli.Run("--explain", vm);
        Assert.Contains($"{vm}: libvirt 11.3's choices (from {config})", explain.Stderr);
        Assert.Contains("urn:libvirt-pci:ledger:1", explain.Stdout); // "stable": true

        Assert.Equal(2, Support.Cli.Run(elsewhere).ExitCode); // its own file says libvirt 9.0, which has no virtio sound
        Assert.Equal(2, Support.Cli.Run("--libvirt-version", "9.0", vm).ExitCode); // the flag wins
    }

    [Theory]
    [InlineData("{\n  \"libvirtVersion\": \"5.0\"\n}\n", "2:3: error LP230: libvirtVersion: libvirt 5.0 is older than the oldest known")]
    [InlineData("{\n  \"stable\": true,\n  \"colour\": \"blue\"\n}\n", "3:3: error LP230: unknown setting \"colour\"")]
    [InlineData("{\n  \"sparePorts\": \"two\"\n}\n", "2:3: error LP230: sparePorts: \"two\" is not a valid value")]
    [InlineData("{\n  \"stable\": tru\n}\n", "2:16: error LP230: not valid JSON")]
    public void Bad_settings_are_refused_with_their_place_and_nothing_is_written(string content, string message)
    {
        using var dir = new TempDir();
        var config = dir.File(".libvirt-pci.json", Encoding.UTF8.GetBytes(content));
        var vm = dir.CopyFixture("examples/q35-web.xml", "vm.xml");
        var before = File.ReadAllBytes(vm);
        var r = Support.Cli.Run("-i", vm);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"{config}:{message}", r.Stderr);
        Assert.Equal(before, File.ReadAllBytes(vm));
    }
}
