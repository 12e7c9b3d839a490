using System.Text;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Cli;

/// <summary>
/// A result with an error finding (here LP601: 16 e1000e NICs need 16 I/O windows, SeaBIOS has
/// 14 for bridges, so the domain would not boot) is not written: nothing on stdout, the file
/// untouched, exit 4, so that `libvirt-pci | virsh define /dev/stdin` stops. --force writes it and
/// still prints the error.
/// </summary>
[Trait("Category", "Cli")]
public sealed class ErrorFindingTests
{
    public static string Unbootable(string name = "unbootable")
    {
        var xml = new StringBuilder($"<domain type='qemu'>\n  <name>{name}</name>\n  <memory unit='MiB'>512</memory>\n  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n");
        for (int i = 0; i < 16; i++)
            xml.Append($"    <interface type='user'>\n      <mac address='52:54:00:00:01:{i:x2}'/>\n      <model type='e1000e'/>\n    </interface>\n");
        return xml.Append("  </devices>\n</domain>\n").ToString();
    }

    [Fact]
    public void A_filter_writes_nothing_and_exits_4()
    {
        var r = Support.Cli.RunWithStdin(Encoding.UTF8.GetBytes(Unbootable()));
        Assert.Equal(4, r.ExitCode);
        Assert.Empty(r.StdoutBytes);
        Assert.Contains("error LP601:", r.Stderr);
        Assert.Contains("not written: the result has errors", r.Stderr);
    }

    [Fact]
    public void In_place_leaves_the_file_alone_and_check_fails()
    {
        using var dir = new TempDir();
        var path = dir.File("vm.xml", Encoding.UTF8.GetBytes(Unbootable()));
        var before = File.ReadAllBytes(path);
        var r = Support.Cli.Run("-i", path);
        Assert.Equal(4, r.ExitCode);
        Assert.Contains($"{path}: not written", r.Stderr);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(1, Support.Cli.Run("--check", path).ExitCode);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Force_writes_and_still_prints_the_error()
    {
        var r = Support.Cli.RunWithStdin(Encoding.UTF8.GetBytes(Unbootable()), "--force");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("<controller type='pci' index='16' model='pcie-root-port'>", r.Stdout);
        Assert.Contains("error LP601:", r.Stderr);
        Assert.DoesNotContain("not written", r.Stderr);
    }
}

/// <summary>Every error in a file is reported, in line order, each with its fix; JSON never says ok for a file with errors.</summary>
[Trait("Category", "Cli")]
public sealed class EveryErrorTests
{
    private static string Fixture => Path.Combine(Paths.Fixtures, "bad", "three-errors.xml");

    [Fact]
    public void Assign_reports_every_refusal_in_line_order_and_writes_nothing()
    {
        using var dir = new TempDir();
        var path = dir.CopyFixture("bad/three-errors.xml");
        var before = File.ReadAllBytes(path);
        var lines = ErrorLines(Support.Cli.Run("-i", path),
            $"{path}:14:7: error LP301: duplicate PCI address 0000:00:03.0",
            $"{path}:18:7: error LP303: disk/vda is at 0000:01:00.0, but a pci-bridge only has slots 1-31");
        Assert.All(lines, l => Assert.Contains("(fix: ", l));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Invalid_addresses_are_all_reported_not_just_the_first()
    {
        var path = Path.Combine(Paths.Fixtures, "bad", "two-invalid-addresses.xml");
        ErrorLines(Support.Cli.Run("lint", path),
            $"{path}:7:54: error LP210: invalid PCI address: slot must be <= 0x1f",
            $"{path}:9:5: error LP209: invalid controller index 'x'",
            $"{path}:12:66: error LP210: invalid PCI address: function must be <= 0x7");
    }

    /// <summary>Exit 2 and exactly these error lines on stderr, in this order (each given by its start).</summary>
    private static string[] ErrorLines(CliResult r, params string[] starts)
    {
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(starts.Length, lines.Length);
        for (int i = 0; i < starts.Length; i++) Assert.StartsWith(starts[i], lines[i]);
        return lines;
    }

    [Fact]
    public void Json_lists_every_error_and_never_says_ok()
    {
        foreach (var command in new[] { new[] { "--json", Fixture }, ["lint", "--json", Fixture] })
        {
            var r = Support.Cli.Run(command);
            Assert.NotEqual(0, r.ExitCode);
            using var json = System.Text.Json.JsonDocument.Parse(r.Stdout);
            var file = json.RootElement.GetProperty("files")[0];
            Assert.Equal("error", file.GetProperty("status").GetString());
            var codes = file.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("severity").GetString() == "error")
                .Select(f => f.GetProperty("code").GetString()).ToList();
            Assert.Equal(["LP301", "LP303"], codes);
            Assert.All(file.GetProperty("findings").EnumerateArray(), f => Assert.True(f.TryGetProperty("fix", out _), f.ToString()));
        }
    }
}

/// <summary>What a run says about what it did.</summary>
[Trait("Category", "Cli")]
public sealed class ReportingTests
{
    [Fact]
    public void In_place_over_a_folder_names_each_file_it_changed()
    {
        using var dir = new TempDir();
        dir.CopyFixture("examples/q35-web.xml", "vms/a.xml");
        dir.CopyFixture("examples/q35-web.xml", "vms/b.xml");
        var r = Support.Cli.Run("-i", Path.Combine(dir.Path, "vms"));
        Assert.Equal(0, r.ExitCode);
        foreach (var name in new[] { "a.xml", "b.xml" })
            Assert.Matches($@"{System.Text.RegularExpressions.Regex.Escape(Path.Combine(dir.Path, "vms", name))}: assigned \d+ PCI addresses\n", r.Stderr);
        var again = Support.Cli.Run("-i", Path.Combine(dir.Path, "vms"));
        Assert.DoesNotContain("assigned", again.Stderr); // nothing changed, nothing named
    }

    [Fact]
    public void Diff_and_json_together_are_a_usage_error()
    {
        var r = Support.Cli.Run("--diff", "--json", Path.Combine(Paths.Fixtures, "examples", "q35-web.xml"));
        Assert.Equal(2, r.ExitCode);
        Assert.Empty(r.StdoutBytes);
        Assert.StartsWith("libvirt-pci: error LP001: --diff and --json: choose one", r.Stderr);
    }
}

/// <summary>--libvirt-version: the profile of every libvirt from 7.0 to 11.3; anything else refused before a file is read.</summary>
[Trait("Category", "Cli")]
public sealed class LibvirtVersionTests
{
    private static readonly string VirtioSound = """
        <domain type='kvm'>
          <name>snd</name>
          <memory unit='MiB'>512</memory>
          <os><type arch='x86_64' machine='q35'>hvm</type></os>
          <devices>
            <sound model='virtio'/>
          </devices>
        </domain>

        """;

    [Theory]
    [InlineData("5.0", "libvirt 5.0 is older than the oldest known, 7.0 (known: 7.0 to 12.9)")]
    [InlineData("banana", "'banana' is not a libvirt version (X.Y, known: 7.0 to 12.9)")]
    public void Unknown_versions_are_refused_and_nothing_is_written(string version, string message)
    {
        using var dir = new TempDir();
        var path = dir.CopyFixture("examples/q35-web.xml");
        var before = File.ReadAllBytes(path);
        var r = Support.Cli.Run("-i", "--libvirt-version", version, path);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"libvirt-pci: error LP002: --libvirt-version: {message}\n", r.Stderr);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_device_model_follows_the_chosen_libvirt()
    {
        var input = System.Text.Encoding.UTF8.GetBytes(VirtioSound);
        var old = Support.Cli.RunWithStdin(input, "--libvirt-version", "9.0");
        Assert.Equal(2, old.ExitCode); // libvirt 9.0 has no virtio sound model
        Assert.Contains("error LP221: sound/virtio#0", old.Stderr);
        var now = Support.Cli.RunWithStdin(input, "--libvirt-version", "11.3");
        Assert.True(now.ExitCode == 0, now.Stderr);
        Assert.Contains("<sound model='virtio'>", now.Stdout);
        var newer = Support.Cli.RunWithStdin(input, "--libvirt-version", "13.1");
        Assert.Equal(0, newer.ExitCode);
        Assert.Equal("libvirt-pci: warning LP003: libvirt 13.1 is newer than the newest known (12.9): 12.9's choices are reproduced\n", newer.Stderr);
        Assert.Equal(now.Stdout, newer.Stdout);
    }

    [Fact]
    public void Every_profile_row_names_its_version_and_source()
    {
        foreach (var row in global::LibvirtPci.Addressing.LibvirtProfile.Rows)
        {
            Assert.InRange(row.Since, global::LibvirtPci.Addressing.LibvirtProfile.Oldest, global::LibvirtPci.Addressing.LibvirtProfile.Newest);
            Assert.Matches(@"NEWS\.rst|src/(conf|qemu)/\w+\.[ch]", row.Source); // where it was read
            Assert.False(global::LibvirtPci.Addressing.LibvirtProfile.For(new Version(row.Since.Major, row.Since.Minor - (row.Since.Minor > 0 ? 1 : 0))).Has(row.Behaviour) && row.Since.Minor > 0);
            Assert.True(global::LibvirtPci.Addressing.LibvirtProfile.For(row.Since).Has(row.Behaviour));
        }
    }
}
