using System.Text;
using LibvirtPci.Limits;
using LibvirtPci.Passthrough;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Integration;
using LibvirtPci.Tests.Support;
using LibvirtPci.Tools;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Limits;

/// <summary>
/// OVMF short of I/O space behaves per edk2 release (FirmwareGroundTruthTests boots each): 2022.11
/// programs nothing (LP602, an error), 2020.11 and 2025.02 program what fits (LP603, a warning);
/// where the host's release is unknown, LP602 is a warning that names both.
/// </summary>
[Trait("Category", "Cli")]
public sealed class FirmwareReleaseTests
{
    private static readonly FirmwareGroundTruthTests.Scenario TenNics = new("ovmf", "q35", 10, 10, "e1000e", false);
    private static readonly FirmwareGroundTruthTests.Scenario NineNicsAndAnEmptyPort = new("ovmf", "q35", 10, 9, "e1000e", false);

    private static IReadOnlyList<Finding> Findings(FirmwareGroundTruthTests.Scenario s, FirmwareReleases firmware) =>
        Rewriter.Assign(SourceText.FromString("ovmf.xml", FirmwareGroundTruthTests.DomainXml(s)), ToolTarget.Options with { Firmware = firmware }).Findings;

    [Theory]
    [InlineData("2022.11", "LP602", Severity.Error)]
    [InlineData("2020.11", "LP603", Severity.Warning)]
    [InlineData("2025.02", "LP603", Severity.Warning)]
    [InlineData("2024.02", "LP602", Severity.Warning)] // never booted here: not known to fail, not known to boot
    public void Ten_io_nics_are_an_error_only_where_ovmf_gives_up(string release, string code, Severity severity)
    {
        var f = Assert.Single(Findings(TenNics, FirmwareReleases.Known(release)), f => f.Code is "LP602" or "LP603");
        Assert.Equal((code, severity), (f.Code, f.Severity));
    }

    [Fact]
    public void An_unknown_release_names_where_it_fails_and_where_it_boots()
    {
        var f = Assert.Single(Findings(TenNics, FirmwareReleases.Unknown), f => f.Code == "LP602");
        Assert.Equal(Severity.Warning, f.Severity);
        Assert.Contains("boot fails with OVMF 2022.11", f.Message);
        Assert.Contains("OVMF 2020.11, 2025.02 boot, leaving 1 device(s) behind root ports unprogrammed", f.Message);
        Assert.Contains("--ovmf-version", f.Message);
    }

    [Fact]
    public void Nine_nics_and_an_empty_port_fail_only_on_2022_11()
    {
        Assert.Contains(Findings(NineNicsAndAnEmptyPort, FirmwareReleases.Known("2022.11")), f => f is { Code: "LP602", Severity: Severity.Error });
        Assert.DoesNotContain(Findings(NineNicsAndAnEmptyPort, FirmwareReleases.Known("2025.02")), f => f.Code is "LP602" or "LP603");
        Assert.Contains(Findings(NineNicsAndAnEmptyPort, FirmwareReleases.Unknown), f => f is { Code: "LP602", Severity: Severity.Warning });
    }

    [Theory]
    [InlineData("2022.11", "2022.11")]
    [InlineData("2022.11-6+deb12u2", "2022.11")]
    [InlineData("0~20191122.bd85bf54-2ubuntu3.5", null)]
    [InlineData("edk2-stable202502", "2025.02")]
    [InlineData("2025.02-8+deb13u1", "2025.02")]
    [InlineData("20250211-1.fc42", null)]
    [InlineData("11.3", null)]
    public void Releases_are_read_from_debian_and_upstream_versions(string version, string? release) =>
        Assert.Equal(release, FirmwareReleases.Normalize(version));

    [Fact]
    public void The_cli_takes_the_release_from_the_flag_the_repository_file_or_the_installed_package()
    {
        using var dir = new TempDir();
        var vm = dir.File("vm.xml", Encoding.UTF8.GetBytes(FirmwareGroundTruthTests.DomainXml(TenNics)));
        var pinned = dir.File("fleet/vm.xml", Encoding.UTF8.GetBytes(FirmwareGroundTruthTests.DomainXml(TenNics)));
        dir.File("fleet/.libvirt-pci.json", "{ \"ovmfVersion\": \"2025.02\" }\n"u8.ToArray());

        var failing = Support.Cli.Run("--check", "--libvirt-version", "9.0", "--ovmf-version", "2022.11", vm);
        Assert.Contains("error LP602", failing.Stderr);
        Assert.Equal(1, failing.ExitCode);
        var booting = Support.Cli.Run("--check", "--libvirt-version", "9.0", "--ovmf-version", "edk2-stable202502", vm);
        Assert.Contains("warning LP603", booting.Stderr);
        Assert.DoesNotContain("LP602", booting.Stderr);
        var fromFile = Support.Cli.Run("lint", "--libvirt-version", "9.0", pinned);
        Assert.DoesNotContain("LP602", fromFile.Stderr);
        Assert.Contains("warning LP603", fromFile.Stderr);
        Assert.Contains("error LP602", Support.Cli.Run("lint", "--libvirt-version", "9.0", "--ovmf-version", "2022.11", pinned).Stderr); // the flag wins

        var bad = Support.Cli.Run("--check", "--ovmf-version", "latest", vm);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("error LP001: --ovmf-version takes an edk2 release such as 2022.11, not 'latest'", bad.Stderr);
        var badFile = dir.File("bad/vm.xml", Encoding.UTF8.GetBytes(FirmwareGroundTruthTests.DomainXml(TenNics)));
        dir.File("bad/.libvirt-pci.json", "{ \"ovmfVersion\": 2022 }\n"u8.ToArray());
        Assert.Contains("ovmfVersion: 2022 is not a valid value", Support.Cli.Run("--check", badFile).Stderr);
    }
}

/// <summary>The installed package is read from dpkg's database; its own collection, as it sets an environment variable.</summary>
[Collection("environment")]
[Trait("Category", "Cli")]
public sealed class InstalledOvmfTests
{
    [Theory]
    [InlineData("Package: ovmf\nStatus: install ok installed\nVersion: 2020.11-2+deb11u2\n", "warning LP603")]
    [InlineData("Package: ovmf\nStatus: install ok installed\nVersion: 2022.11-6+deb12u2\n", "error LP602")]
    [InlineData("Package: seabios\nVersion: 1.16.2-1\n\nPackage: ovmfx\nVersion: 2022.11-6\n", "warning LP602")]
    public void The_installed_ovmf_decides_when_nothing_else_does(string status, string expected)
    {
        using var dir = new TempDir();
        var db = dir.File("status", Encoding.UTF8.GetBytes("Package: libc6\nVersion: 2.36-9\n\n" + status));
        var vm = dir.File("vm.xml", Encoding.UTF8.GetBytes(FirmwareGroundTruthTests.DomainXml(new("ovmf", "q35", 10, 10, "e1000e", false))));
        var before = Environment.GetEnvironmentVariable("LIBVIRT_PCI_DPKG_STATUS");
        Environment.SetEnvironmentVariable("LIBVIRT_PCI_DPKG_STATUS", db);
        try { Assert.Contains(expected, Support.Cli.Run("lint", "--libvirt-version", "9.0", vm).Stderr); }
        finally { Environment.SetEnvironmentVariable("LIBVIRT_PCI_DPKG_STATUS", before); }
    }
}
