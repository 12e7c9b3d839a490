using System.Text.RegularExpressions;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Cli;

/// <summary>
/// Every kind of bad input gets exit 2 and one clear FILE:LINE:COL message from every command,
/// no stack trace, nothing of another file echoed, and nothing written.
/// </summary>
[Trait("Category", "Cli")]
public sealed class BadInputTests
{
    public static IEnumerable<object[]> BadFiles() => new[]
    {
        new object[] { "malformed.xml", "LP200", "5:5" },
        ["truncated.xml", "LP200", "5:"],
        ["empty.xml", "LP202", "1:1"],
        ["binary.xml", "LP201", "2:"],
        ["billion-laughs.xml", "LP203", "2:1"],
        ["xxe.xml", "LP203", "2:1"],
        ["not-a-domain.xml", "LP204", "1:1"],
        ["invalid-slot.xml", "LP210", "7:"],
        ["machine-microvm.xml", "LP227", "5:5"],
        ["arch-aarch64.xml", "LP227", "5:5"],
    };

    private static readonly Regex OneMessage = new(@"^\S+:\d+:\d+: error LP\d{3}: [^\n]+\n$");

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Every_command_refuses_with_one_located_message_and_writes_nothing(string file, string code, string where)
    {
        using var dir = new TempDir();
        var path = dir.CopyFixture(Path.Combine("bad", file));
        var before = File.ReadAllBytes(path);
        foreach (var args in new[] { new[] { "lint", path }, ["tree", path], ["assign", path], ["-i", path], ["--check", path], [path] })
        {
            var r = Support.Cli.Run(args);
            Assert.Equal(2, r.ExitCode);
            Assert.Matches(OneMessage, r.Stderr);
            Assert.Contains($"{path}:{where}", r.Stderr);
            Assert.Contains($"error {code}:", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr); // no stack trace
            Assert.DoesNotContain("root:", r.Stderr); // nothing of /etc/passwd
            Assert.Empty(r.StdoutBytes);
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Single(Directory.GetFiles(dir.Path)); // no temp file left behind
        }
    }

    [Fact]
    public void Missing_file_and_directory_are_refused()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "nope.xml");
        foreach (var cmd in new[] { "lint", "tree", "assign" })
        {
            var r = Support.Cli.Run(cmd, missing);
            Assert.Equal(2, r.ExitCode);
            Assert.Equal($"{missing}: error LP100: no such file\n", r.Stderr);
        }
        var t = Support.Cli.Run("tree", dir.Path);
        Assert.Equal(2, t.ExitCode);
        Assert.Contains("error LP101: is a directory", t.Stderr);
    }

    [Fact]
    public void Stdin_errors_name_stdin()
    {
        var r = Support.Cli.RunWithStdin("<domain><devices>"u8.ToArray(), "lint", "-");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("<stdin>:1:", r.Stderr);
    }

    [Fact]
    public void Duplicate_address_is_refused_by_assign_and_reported_by_lint()
    {
        using var dir = new TempDir();
        var path = dir.CopyFixture("bad/duplicate-address.xml");
        var before = File.ReadAllBytes(path);
        var a = Support.Cli.Run("-i", path);
        Assert.Equal(2, a.ExitCode);
        Assert.Contains($"{path}:11:7: error LP301: duplicate PCI address 0000:00:03.0", a.Stderr);
        Assert.Equal(before, File.ReadAllBytes(path));
        var l = Support.Cli.Run("lint", path);
        Assert.Equal(1, l.ExitCode);
        Assert.Contains("LP301", l.Stderr);
    }

    [Fact]
    public void A_device_on_a_chipset_function_gets_libvirts_refusal_in_words()
    {
        using var dir = new TempDir();
        var path = dir.CopyFixture("bad/video-slot-taken.xml");
        var r = Support.Cli.Run(path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(":5:5: error LP223: interface/52:54:00:00:00:01: PCI address 0000:00:01.0 is reserved for the PIIX3 ISA bridge on pc", r.Stderr);
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        Assert.Equal(2, Support.Cli.Run("--no-such-option").ExitCode);
        Assert.Equal(2, Support.Cli.Run("--libvirt-version", "1.2", "x.xml").ExitCode);
        var several = Support.Cli.Run(Path.Combine(Paths.Fixtures, "examples", "q35-web.xml"), Path.Combine(Paths.Fixtures, "examples", "q35-web.xml"));
        Assert.Equal(2, several.ExitCode);
        Assert.Contains("several inputs", several.Stderr);
    }
}
