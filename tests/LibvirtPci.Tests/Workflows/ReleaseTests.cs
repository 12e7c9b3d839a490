using System.Text;
using System.Text.RegularExpressions;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Workflows;

/// <summary>
/// tools/release.sh over the NativeAOT binary: every artefact verifies against SHA256SUMS; the
/// .deb passes lintian without errors and installs with dpkg in the Debian 11 and 13 chroots,
/// where the binary runs, `man libvirt-pci` renders and the bash completion completes; the .rpm
/// carries the same files. Runs in the pass against the NativeAOT binary (tools/test.sh).
/// </summary>
[Trait("Category", "NativeBinary")]
[Collection(DebianRoots.Packages)]
public sealed class ReleaseTests
{
    private static string Release(TempDir dir)
    {
        var r = Proc.Run("bash", ["tools/release.sh", "--binary", Support.Cli.ExternalBinary!, "--out", Path.Combine(dir.Path, "release")], Paths.RepoRoot);
        Assert.True(r.Code == 0, r.Out + r.Err);
        return r.Out.Trim().Split('\n')[^1];
    }

    private static void RequireTools()
    {
        Require.Available(Support.Cli.ExternalBinary is null ? "needs the NativeAOT binary (LIBVIRT_PCI_BINARY=out/native/libvirt-pci; tools/test.sh sets it)"
            : !File.Exists("/usr/bin/rpmbuild") || !File.Exists("/usr/bin/lintian") ? "rpm and lintian are not installed (apt-get install rpm lintian)"
            : !File.Exists("/usr/bin/ansible-galaxy") ? "ansible-core is not installed" : null);
    }

    [SkippableFact]
    public void Every_artefact_verifies_the_deb_is_lintian_clean_and_the_rpm_has_the_same_files()
    {
        RequireTools();
        using var dir = new TempDir();
        var release = Release(dir);
        var version = Proc.Run(Support.Cli.ExternalBinary!, ["--version"]).Out.Trim();
        var sums = Proc.Run("sha256sum", ["-c", "SHA256SUMS"], release);
        Assert.True(sums.Code == 0, sums.Out + sums.Err);
        Assert.Equal(
            ["fleet_migrate.yml", $"libvirt-pci-{version}-1.x86_64.rpm", $"libvirt-pci-{version}-linux-x86_64.tar.gz", $"libvirt-pci_{version}-1_amd64.deb", $"libvirt_pci-fleet-{version}.tar.gz"],
            Regex.Matches(sums.Out, @"^(\S+): OK$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal));

        var deb = Path.Combine(release, $"libvirt-pci_{version}-1_amd64.deb");
        var lintian = Proc.Run("lintian", ["--tag-display-limit", "0", deb]);
        Assert.DoesNotMatch(new Regex("^E: ", RegexOptions.Multiline), lintian.Out);

        // the same files in both, each in its distribution's place
        var debFiles = Proc.Run("dpkg-deb", ["-c", deb]).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith('-')).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1].TrimStart('.')).ToHashSet();
        var rpmFiles = Proc.Run("rpm", ["-qlp", Path.Combine(release, $"libvirt-pci-{version}-1.x86_64.rpm")]).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        string[] both = ["/usr/bin/libvirt-pci", "/usr/share/man/man1/libvirt-pci.1.gz", "/usr/share/bash-completion/completions/libvirt-pci"];
        Assert.All(both, f => Assert.Contains(f, debFiles));
        Assert.All(both, f => Assert.Contains(f, rpmFiles));
        Assert.Contains("/usr/share/zsh/vendor-completions/_libvirt-pci", debFiles);   // Debian's
        Assert.Contains("/usr/share/zsh/site-functions/_libvirt-pci", rpmFiles);       // Fedora's
        Assert.Contains("/usr/share/doc/libvirt-pci/README.md.gz", debFiles);
        Assert.Contains("/usr/share/doc/libvirt-pci/README.md", rpmFiles);
        Assert.Contains("/usr/share/doc/libvirt-pci/copyright", debFiles);
        Assert.Contains("/usr/share/licenses/libvirt-pci/LICENSE", rpmFiles);
        Assert.Equal(7, debFiles.Count); // and changelog.Debian.gz
        Assert.Equal(6, rpmFiles.Count);

        // reproducible: a second run gives the same .deb, .rpm and tarball (ansible-galaxy stamps its own build time)
        using var again = new TempDir();
        static string[] Ours(string release) => [.. File.ReadAllLines(Path.Combine(release, "SHA256SUMS")).Where(l => !l.Contains("libvirt_pci-fleet", StringComparison.Ordinal))];
        Assert.Equal(Ours(release), Ours(Release(again)));
    }

    [SkippableFact]
    public void The_deb_installs_on_debian_11_and_13_and_its_binary_man_page_and_completion_work_there()
    {
        RequireTools();
        string[] suites = ["bullseye", "trixie"];
        foreach (var suite in suites)
            Require.Available(File.Exists($"/var/tmp/libvirt-pci-{suite}/root/usr/bin/man") && Environment.UserName == "root"
                ? null : $"the {suite} chroot is not made with man-db, or not root (bash tools/libvirt-sandbox.sh --debian {suite} make)");
        using var dir = new TempDir();
        var release = Release(dir);
        var version = Proc.Run(Support.Cli.ExternalBinary!, ["--version"]).Out.Trim();
        var deb = $"libvirt-pci_{version}-1_amd64.deb";
        foreach (var suite in suites)
        {
            var root = $"/var/tmp/libvirt-pci-{suite}/root";
            File.Copy(Path.Combine(release, deb), Path.Combine(root, "tmp", deb), overwrite: true);
            Proc.Result In(string script) => Proc.Run("chroot", [root, "sh", "-c", script]);
            try
            {
                var install = In($"dpkg -i /tmp/{deb}");
                Assert.True(install.Code == 0, $"{suite}: {install.Out}{install.Err}");
                Assert.Equal(version, In("libvirt-pci --version").Out.Trim());
                var man = In("MANWIDTH=200 man libvirt-pci 2>&1");
                Assert.True(man.Code == 0, $"{suite}: {man.Out}{man.Err}");
                Assert.Contains("libvirt-pci - libvirt-compatible, stable PCI addresses", Regex.Replace(man.Out, @"[ \t]+", " "));
                Assert.Contains("EXIT STATUS", man.Out);
                Assert.Equal("guard install uninstall", BashCompletion.Complete(line => In($"cd /tmp && {line}"), "/usr/share/bash-completion/completions/libvirt-pci", "libvirt-pci", "hook", ""));
                Assert.Contains("12.9", BashCompletion.Complete(line => In($"cd /tmp && {line}"), "/usr/share/bash-completion/completions/libvirt-pci", "libvirt-pci", "--libvirt-version", "1"));
            }
            finally
            {
                In("dpkg --purge libvirt-pci >/dev/null 2>&1");
                File.Delete(Path.Combine(root, "tmp", deb));
            }
            Assert.False(File.Exists(Path.Combine(root, "usr", "bin", "libvirt-pci")));
        }
    }
}

/// <summary>
/// The install role with the release's .deb on a Debian 11 host (the bullseye chroot as an Ansible
/// host): apt installs it, the package's binary is the one that runs, a second run changes nothing;
/// a .rpm for an apt host is refused in words.
/// </summary>
[Trait("Category", "NativeBinary")]
[Collection(DebianRoots.Packages)]
public sealed class InstallRolePackageTests
{
    [SkippableFact]
    public void The_install_role_installs_the_deb_with_apt_on_a_debian_11_host_and_refuses_an_rpm_there()
    {
        Require.Available(Support.Cli.ExternalBinary is null ? "needs the NativeAOT binary (LIBVIRT_PCI_BINARY=out/native/libvirt-pci; tools/test.sh sets it)"
            : !File.Exists("/usr/bin/rpmbuild") || !File.Exists("/usr/bin/ansible-playbook") ? "rpm and ansible-core are not installed" : ChrootHost.Missing("bullseye"));
        using var dir = new TempDir();
        var r = Proc.Run("bash", ["tools/release.sh", "--binary", Support.Cli.ExternalBinary!, "--out", Path.Combine(dir.Path, "release")], Paths.RepoRoot);
        Assert.True(r.Code == 0, r.Out + r.Err);
        var release = r.Out.Trim().Split('\n')[^1];
        var sums = File.ReadAllLines(Path.Combine(release, "SHA256SUMS")).Select(l => l.Split("  ")).ToDictionary(p => p[1], p => p[0]);
        var deb = sums.Keys.Single(k => k.EndsWith(".deb", StringComparison.Ordinal));
        var rpm = sums.Keys.Single(k => k.EndsWith(".rpm", StringComparison.Ordinal));
        ChrootHost.Inventory(dir, "bullseye", "debian11");
        string Play(string package) => $"""
            - hosts: debian11
              gather_facts: false
              roles:
                - role: libvirt_pci.fleet.install
                  libvirt_pci_package_src: {Path.Combine(release, package)}
                  libvirt_pci_sha256: "{sums[package]}"
            """;
        dir.File("deb.yml", Encoding.UTF8.GetBytes(Play(deb)));
        dir.File("rpm.yml", Encoding.UTF8.GetBytes(Play(rpm)));
        var root = ChrootHost.Root("bullseye");
        try
        {
            var first = Ansible.Playbook(dir.Path, "deb.yml", "hosts");
            Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
            Assert.True(first.Result("Install the .deb (apt)", "debian11")["changed"]!.GetValue<bool>());
            Assert.Contains("at /usr/bin/libvirt-pci", first.Result("Check it is recent enough for the fleet modules", "debian11")["msg"]!.GetValue<string>());
            Assert.True(File.Exists(root + "/usr/share/man/man1/libvirt-pci.1.gz"));
            var again = Ansible.Playbook(dir.Path, "deb.yml", "hosts");
            Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
            Assert.False(again.Result("Install the .deb (apt)", "debian11")["changed"]!.GetValue<bool>());

            var refused = Ansible.Playbook(dir.Path, "rpm.yml", "hosts");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("debian11 installs packages with apt, which does not take " + rpm,
                refused.Result("Refuse a package the host's package manager does not take", "debian11")["msg"]!.GetValue<string>());
        }
        finally
        {
            Proc.Run("chroot", [root, "sh", "-c", "dpkg --purge libvirt-pci >/dev/null 2>&1; rm -f /var/tmp/libvirt-pci*"]);
        }
    }
}

/// <summary>
/// Tests that install and remove the libvirt-pci package inside the Debian chroots run one at a
/// time: two of them at once would see each other's dpkg --purge (xunit runs classes in parallel).
/// </summary>
public static class DebianRoots
{
    public const string Packages = "packages in the Debian chroots";
}

/// <summary>Drives a bash completion function the way bash does: COMP_WORDS, COMP_CWORD, then COMPREPLY.</summary>
public static class BashCompletion
{
    /// <summary>The candidates, sorted and space-separated, for the command line <paramref name="words"/> (the last one being completed).</summary>
    public static string Complete(Func<string, Proc.Result> shell, string script, params string[] words)
    {
        var quoted = string.Join(' ', words.Select(w => $"'{w.Replace("'", "'\\''")}'"));
        var r = shell($"bash -c '. \"$0\"; COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _libvirt_pci; printf \"%s\\n\" \"${{COMPREPLY[@]}}\"' {script} {quoted}");
        Assert.True(r.Code == 0, r.Out + r.Err);
        return string.Join(' ', r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }
}
