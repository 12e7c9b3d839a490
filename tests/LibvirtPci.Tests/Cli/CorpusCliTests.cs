using LibvirtPci.Tools;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Cli;

/// <summary>libvirt's own stored XML is valid by definition: tree and lint accept every one.</summary>
[Trait("Category", "Cli")]
public sealed class CorpusCliTests
{
    public static IEnumerable<object[]> OutFiles() => Paths.CorpusCases("*.out.xml");

    [SkippableTheory]
    [MemberData(nameof(OutFiles))]
    public void Tree_and_lint_accept_libvirts_output(string file)
    {
        Paths.RequireCorpus();
        var path = Path.Combine(Paths.Corpus, file);
        var lint = Support.Cli.Run("lint", path);
        Assert.True(lint.ExitCode == 0, lint.Stderr);
        var tree = Support.Cli.Run("tree", path);
        Assert.True(tree.ExitCode == 0, tree.Stderr);
        Assert.StartsWith("pci", tree.Stdout);
        Assert.DoesNotContain("on a bus with no controller", tree.Stdout);
    }

    [Fact]
    public void Check_walks_a_folder_skips_non_domain_files_and_reports_the_worst()
    {
        using var dir = new TempDir();
        dir.CopyFixture("examples/q35-web.xml", "vms/web.xml");
        dir.CopyFixture("bad/not-a-domain.xml", "vms/network.xml");
        var done = global::LibvirtPci.Rewrite.Rewriter.Assign(global::LibvirtPci.Xml.SourceText.FromBytes("x", File.ReadAllBytes(Path.Combine(Paths.Fixtures, "examples", "q35-web.xml"))), ToolTarget.Options);
        dir.File("vms/done.xml", done.Bytes);
        var r = Support.Cli.Run("--check", Path.Combine(dir.Path, "vms"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("web.xml: would assign", r.Stderr);
        Assert.DoesNotContain("done.xml: would", r.Stderr);
        Assert.Contains("2 checked, 1 to change, 0 failed, 1 skipped", r.Stderr);

        dir.CopyFixture("bad/malformed.xml", "vms/broken.xml");
        var worst = Support.Cli.Run("-i", Path.Combine(dir.Path, "vms"));
        Assert.Equal(2, worst.ExitCode);
        Assert.Contains("2 checked, 1 changed, 1 failed, 1 skipped", worst.Stderr);
        Assert.Equal(0, Support.Cli.Run("--check", Path.Combine(dir.Path, "vms", "web.xml")).ExitCode);
    }

    [Fact]
    public void Stdin_to_stdout_then_check_passes()
    {
        var input = File.ReadAllBytes(Path.Combine(Paths.Fixtures, "examples", "q35-web.xml"));
        var r = Support.Cli.RunWithStdin(input);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("<controller type='pci' index='1' model='pcie-root-port'>", r.Stdout);
        var again = Support.Cli.RunWithStdin(r.StdoutBytes, "--check", "-");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal("", again.Stderr);
    }

    [Fact]
    public void Json_report_lists_every_device_with_origin_and_reason()
    {
        var r = Support.Cli.Run("--json", Path.Combine(Paths.Fixtures, "examples", "q35-web.xml"));
        Assert.Equal(0, r.ExitCode);
        using var json = System.Text.Json.JsonDocument.Parse(r.Stdout);
        var file = json.RootElement.GetProperty("files")[0];
        Assert.True(file.GetProperty("changed").GetBoolean());
        var devices = file.GetProperty("devices").EnumerateArray().ToList();
        var nic = devices.Single(d => d.GetProperty("key").GetString() == "interface/52:54:00:12:34:01");
        Assert.Equal("0000:02:00.0", nic.GetProperty("address").GetString()); // rp1 holds the pcie-to-pci-bridge (libvirt's pass-2 order)
        Assert.Equal("assigned", nic.GetProperty("origin").GetString());
        Assert.Contains("first free slot", nic.GetProperty("reason").GetString());
        Assert.Contains(devices, d => d.GetProperty("added").GetBoolean() && d.GetProperty("key").GetString() == "controller/pci/1");
    }

    [Fact]
    public void Lint_json_carries_findings_with_position_and_fix()
    {
        var r = Support.Cli.Run("lint", "--json", Path.Combine(Paths.Fixtures, "bad", "duplicate-address.xml"));
        Assert.Equal(1, r.ExitCode);
        using var json = System.Text.Json.JsonDocument.Parse(r.Stdout);
        var finding = json.RootElement.GetProperty("files")[0].GetProperty("findings")[0];
        Assert.Equal("LP301", finding.GetProperty("code").GetString());
        Assert.Equal(11, finding.GetProperty("line").GetInt32());
        Assert.Contains("<address>", finding.GetProperty("fix").GetString());
    }

    [Fact]
    public void Diff_writes_nothing_and_shows_the_new_lines()
    {
        using var dir = new TempDir();
        var path = dir.CopyFixture("examples/q35-web.xml");
        var before = File.ReadAllBytes(path);
        var r = Support.Cli.Run("--diff", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("+      <address type='pci' domain='0x0000' bus='0x03' slot='0x01' function='0x0'/>", r.Stdout);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void In_place_keeps_the_file_mode()
    {
        using var dir = new TempDir();
        var path = dir.CopyFixture("examples/q35-web.xml");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(0, Support.Cli.Run("-i", path).ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Contains("pcie-root-port", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Help_teaches_and_version_prints()
    {
        var h = Support.Cli.Run("--help");
        Assert.Equal(0, h.ExitCode);
        Assert.Contains("virsh dumpxml --inactive vm | libvirt-pci | virsh define /dev/stdin", h.Stdout);
        Assert.Contains("Exit codes", h.Stdout);
        Assert.Contains(LibvirtPci.Cli.Commands.Version, Support.Cli.Run("--version").Stdout);
    }
}
