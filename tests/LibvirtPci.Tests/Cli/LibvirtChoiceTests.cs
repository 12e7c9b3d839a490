using LibvirtPci.Cli;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Cli;

/// <summary>LIBVIRT_PCI_LIBDIRS is process-wide: these tests run alone, after the parallel ones.</summary>
[CollectionDefinition("installed libvirt", DisableParallelization = true)]
public sealed class InstalledLibvirtCollection;

/// <summary>Which libvirt is reproduced when no --libvirt-version is given: the .libvirt-pci.json, the installed libvirt, else the newest.</summary>
[Trait("Category", "Cli")]
[Collection("installed libvirt")]
public sealed class LibvirtChoiceTests
{
    [Theory]
    [InlineData("libvirt.so.0.9000.0", "9.0.0")]
    [InlineData("libvirt.so.0.11003.0", "11.3.0")]
    [InlineData("libvirt.so.0.7000.0", "7.0.0")]
    [InlineData("libvirt.so.0.10010.0", "10.10.0")]
    [InlineData("libvirt.so.0", null)]
    [InlineData("libvirt.so.0.x.0", null)]
    [InlineData("libvirt-qemu.so.0.9000.0", null)]
    public void The_library_file_name_gives_the_version(string file, string? version) =>
        Assert.Equal(version, LibvirtChoice.FromSoname(file));

    [Fact]
    public void The_daemon_version_is_read_from_virsh()
    {
        var choice = LibvirtChoice.FromVirshVersion("Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 10.0.2\nRunning against daemon: 11.3.0\n\n", "the daemon at qemu:///system");
        Assert.NotNull(choice);
        Assert.Equal("11.3", choice.Profile.ToString());
        Assert.Equal("libvirt 11.3 (from the daemon at qemu:///system, libvirt 11.3.0)", choice.ToString());
        Assert.Null(LibvirtChoice.FromVirshVersion("error: failed to connect to the hypervisor", "x"));
        Assert.Equal("12.9", LibvirtChoice.FromVirshVersion("Running against daemon: 13.4.0", "x")!.Profile.ToString());
        Assert.Equal("12.4", LibvirtChoice.FromVirshVersion("Running against daemon: 12.4.0", "x")!.Profile.ToString());
    }

    [Fact]
    public void An_installed_libvirt_newer_than_every_profile_is_said_on_stderr_never_silently_guessed()
    {
        using var dir = new TempDir();
        var vm = dir.CopyFixture("examples/q35-web.xml", "vms/web.xml");
        var newer = WithLibdirs(FakeLibdir(dir, "libvirt.so.0.13002.0"), () => Support.Cli.Run("--check", vm));
        Assert.Contains($"{vm}: warning LP003: libvirt 12.9's choices (from the installed libvirt 13.2.0, ", newer.Stderr);
        Assert.Contains("newer than 12.9, whose choices are reproduced", newer.Stderr);
        var known = WithLibdirs(FakeLibdir(dir, "libvirt.so.0.12009.0"), () => Support.Cli.Run("--check", vm));
        Assert.DoesNotContain("LP003", known.Stderr);
    }

    /// <summary>A library folder holding libvirt.so.0 → libvirt.so.0.VERSION, as Debian's libvirt0 package installs it.</summary>
    private static string FakeLibdir(TempDir dir, string soname)
    {
        var lib = Path.Combine(dir.Path, "lib-" + soname);
        Directory.CreateDirectory(lib);
        File.WriteAllBytes(Path.Combine(lib, soname), []);
        File.CreateSymbolicLink(Path.Combine(lib, "libvirt.so.0"), soname);
        return lib;
    }

    private static CliResult WithLibdirs(string libdirs, Func<CliResult> run)
    {
        var before = Environment.GetEnvironmentVariable("LIBVIRT_PCI_LIBDIRS");
        Environment.SetEnvironmentVariable("LIBVIRT_PCI_LIBDIRS", libdirs);
        try { return run(); }
        finally { Environment.SetEnvironmentVariable("LIBVIRT_PCI_LIBDIRS", before); }
    }

    [Fact]
    public void First_match_wins_flag_then_repository_file_then_installed_libvirt_then_the_newest()
    {
        using var dir = new TempDir();
        var vm = dir.CopyFixture("examples/q35-web.xml", "repo/vms/web.xml");
        var lib = FakeLibdir(dir, "libvirt.so.0.10000.0");
        var empty = Directory.CreateDirectory(Path.Combine(dir.Path, "nolib")).FullName;

        string From(CliResult r) => r.Stderr.Split('\n').First(l => l.Contains("'s choices (from", StringComparison.Ordinal));
        Assert.Contains("libvirt 10.0's choices (from the installed libvirt 10.0.0, " + Path.Combine(lib, "libvirt.so.0.10000.0") + ")",
            From(WithLibdirs(lib, () => Support.Cli.Run("--explain", "--check", vm))));
        Assert.Contains("libvirt 12.9's choices (from the newest known; no libvirt installed here)",
            From(WithLibdirs(empty, () => Support.Cli.Run("--explain", "--check", vm))));
        File.WriteAllText(Path.Combine(dir.Path, "repo", ".libvirt-pci.json"), "{ \"libvirtVersion\": \"7.0\" }\n");
        Assert.Contains("libvirt 7.0's choices (from " + Path.Combine(dir.Path, "repo", ".libvirt-pci.json") + ")",
            From(WithLibdirs(lib, () => Support.Cli.Run("--explain", "--check", vm))));
        Assert.Contains("libvirt 9.0's choices (from --libvirt-version)",
            From(WithLibdirs(lib, () => Support.Cli.Run("--explain", "--check", "--libvirt-version", "9.0", vm))));
    }

    [Fact]
    public void Tree_and_lint_say_which_libvirt()
    {
        using var dir = new TempDir();
        var vm = dir.CopyFixture("examples/q35-web.xml", "web.xml");
        var lib = FakeLibdir(dir, "libvirt.so.0.11003.0");
        var tree = WithLibdirs(lib, () => Support.Cli.Run("tree", vm));
        Assert.Equal(0, tree.ExitCode);
        Assert.EndsWith($"(libvirt 11.3 (from the installed libvirt 11.3.0, {Path.Combine(lib, "libvirt.so.0.11003.0")}))\n", tree.Stdout);
        var lint = WithLibdirs(lib, () => Support.Cli.Run("lint", "--json", "--libvirt-version", "10.4", vm));
        Assert.Contains("\"libvirt\": \"10.4\"", lint.Stdout);
        Assert.Contains("\"libvirtFrom\": \"--libvirt-version\"", lint.Stdout);
        var bad = dir.File("dup.xml", System.Text.Encoding.UTF8.GetBytes("""
            <domain type='kvm'><name>d</name><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
            <interface type='network'><source network='default'/><address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
            <interface type='network'><source network='default'/><address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
            </devices></domain>
            """));
        var text = WithLibdirs(lib, () => Support.Cli.Run("lint", bad));
        Assert.Equal(1, text.ExitCode);
        Assert.EndsWith($"dup.xml: 1 finding, checked as libvirt 11.3 (from the installed libvirt 11.3.0, {Path.Combine(lib, "libvirt.so.0.11003.0")})\n", text.Stderr);
    }
}
