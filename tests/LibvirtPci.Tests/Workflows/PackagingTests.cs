using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Workflows;

/// <summary>The dotnet tool: packed, installed from a local folder into a temporary tool path, and run.</summary>
[Trait("Category", "Packaging")]
public sealed class PackagingTests
{
    private static Proc.Result Run(string file, string? workDir, params string[] args) =>
        Proc.Run(file, args, workDir ?? Paths.RepoRoot, new Dictionary<string, string?> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" });

    [Fact]
    public void Packed_tool_installs_the_native_binary_on_linux_x64_and_the_jit_fallback_runs_too()
    {
        using var dir = new TempDir();
        var feed = Path.Combine(dir.Path, "feed");
        var pack = Run("bash", null, "tools/pack-tool.sh", feed);
        Assert.True(pack.Code == 0, pack.Out + pack.Err);
        Assert.Single(Directory.GetFiles(feed, "LibvirtPci.Tool.0*.nupkg"));             // the pointer package
        Assert.Single(Directory.GetFiles(feed, "LibvirtPci.Tool.linux-x64.*.nupkg"));    // NativeAOT for linux-x64
        Assert.Single(Directory.GetFiles(feed, "LibvirtPci.Tool.any.*.nupkg"));          // framework-dependent fallback

        foreach (var (package, native) in new[] { ("LibvirtPci.Tool", true), ("LibvirtPci.Tool.any", false) })
        {
            var tools = Path.Combine(dir.Path, package);
            var install = Run("dotnet", dir.Path, "tool", "install", package, "--tool-path", tools, "--add-source", feed);
            Assert.True(install.Code == 0, install.Out + install.Err);
            var exe = Path.Combine(tools, "libvirt-pci");
            // What runs: the NativeAOT ELF itself, or the apphost of a JIT-started tool (which has a .dll beside it in the store).
            var dlls = Directory.GetFiles(Path.Combine(tools, ".store"), "libvirt-pci.dll", SearchOption.AllDirectories);
            Assert.Equal(native, dlls.Length == 0);
            var version = Run(exe, dir.Path, "--version");
            Assert.Equal(0, version.Code);
            Assert.Contains(LibvirtPci.Cli.Commands.Version, version.Out);
            var assign = Run(exe, dir.Path, Path.Combine(Paths.Fixtures, "examples", "q35-web.xml"));
            Assert.Equal(0, assign.Code);
            Assert.Contains("<controller type='pci' index='1' model='pcie-root-port'>", assign.Out);

            // The hook it installs names the tool path's entry, not the versioned binary in .store.
            var repo = Path.Combine(dir.Path, "repo-" + package);
            Directory.CreateDirectory(repo);
            Assert.Equal(0, Run("git", repo, "init", "-q").Code);
            var hook = Run(exe, repo, "hook", "install");
            Assert.True(hook.Code == 0, hook.Out + hook.Err);
            var script = File.ReadAllText(Path.Combine(repo, ".git", "hooks", "pre-commit"));
            Assert.Contains($"recorded='{exe}'", script);
        }
    }

    /// <summary>
    /// The binary tools/publish-native.sh makes (what the release and the Ansible role ship) runs on
    /// the oldest host the tool supports: linked against Debian 11's glibc (tools/make-sysroot.sh), it
    /// names no glibc symbol newer than 2.28 (RHEL 8; libm's log and pow bound to their old versions,
    /// src/LibvirtPci.Cli/Native/glibc-compat.c), and inside the Debian 11 and Debian 13 chroots it gives
    /// the same answers, byte for byte, as on this host.
    /// </summary>
    [SkippableFact]
    public void The_published_binary_needs_no_glibc_newer_than_2_28_and_runs_on_debian_11_and_13()
    {
        string[] suites = ["bullseye", "trixie", "trixie-backports"];
        var installed = new Dictionary<string, string> { ["bullseye"] = "7.0", ["trixie"] = "11.3", ["trixie-backports"] = "12.9" };
        foreach (var suite in suites)
            Support.Require.Available(File.Exists($"/var/tmp/libvirt-pci-{suite}/root/usr/sbin/libvirtd") && Environment.UserName == "root"
                ? null : $"the {suite} chroot is not made, or not root (bash tools/libvirt-sandbox.sh --debian {suite} make)");
        using var dir = new TempDir();
        var publish = Run("bash", null, "tools/publish-native.sh", Path.Combine(dir.Path, "native"));
        Assert.True(publish.Code == 0, publish.Out + publish.Err);
        var exe = Path.Combine(Paths.RepoRoot, publish.Out.Trim().Split('\n')[^1]);
        var symbols = Run("objdump", null, "-T", exe);
        Assert.Equal(0, symbols.Code);
        var versions = System.Text.RegularExpressions.Regex.Matches(symbols.Out, @"GLIBC_2\.(\d+)").Select(m => int.Parse(m.Groups[1].Value)).ToList();
        Assert.NotEmpty(versions);
        Assert.True(versions.Max() <= 28, $"the binary needs GLIBC_2.{versions.Max()}: {publish.Err}");

        var inputs = Directory.GetFiles(Path.Combine(Paths.Fixtures, "rewrite"), "*.in.xml").Append(Path.Combine(Paths.Fixtures, "examples", "q35-web.xml")).ToList();
        var names = inputs.Select(i => Path.GetFileName(i)).ToList();
        var local = Directory.CreateDirectory(Path.Combine(dir.Path, "inputs")).FullName;
        foreach (var input in inputs) File.Copy(input, Path.Combine(local, Path.GetFileName(input)));
        var here = Run(exe, local, ["--json", "--libvirt-version", "7.0", .. names]);
        foreach (var suite in suites)
        {
            var root = $"/var/tmp/libvirt-pci-{suite}/root";
            var work = Path.Combine(root, "tmp", "libvirt-pci-binary-test");
            Directory.CreateDirectory(work);
            try
            {
                File.Copy(exe, Path.Combine(work, "libvirt-pci"), overwrite: true);
                foreach (var input in inputs) File.Copy(input, Path.Combine(work, Path.GetFileName(input)), overwrite: true);
                var there = Run("chroot", null, root, "sh", "-c", "cd /tmp/libvirt-pci-binary-test && ./libvirt-pci --json --libvirt-version 7.0 " + string.Join(" ", names));
                Assert.True(there.Code == here.Code, $"{suite}: exit {there.Code}, here {here.Code}: {there.Err}");
                Assert.Equal(here.Out, there.Out);
                // with no flag, the libvirt installed on that host is the one reproduced, and said
                var own = Run("chroot", null, root, "sh", "-c", "cd /tmp/libvirt-pci-binary-test && ./libvirt-pci --json q35-web.xml");
                using var report = System.Text.Json.JsonDocument.Parse(own.Out);
                var file = report.RootElement.GetProperty("files")[0];
                Assert.Equal(installed[suite], file.GetProperty("libvirt").GetString());
                Assert.Contains($"the installed libvirt {installed[suite]}.0", file.GetProperty("libvirtFrom").GetString());
            }
            finally { Directory.Delete(work, recursive: true); }
        }
    }

    [Fact]
    public void Publish_gives_a_native_executable_named_libvirt_pci()
    {
        using var dir = new TempDir();
        var publish = Run("dotnet", null, "publish", "src/LibvirtPci.Cli", "-c", "Release", "-o", dir.Path, "-nologo");
        Assert.True(publish.Code == 0, publish.Out + publish.Err);
        var exe = Path.Combine(dir.Path, "libvirt-pci");
        Assert.True(File.Exists(exe));
        Assert.False(File.Exists(Path.Combine(dir.Path, "libvirt-pci.dll"))); // NativeAOT: no managed assembly to JIT
        // Startup (README, performance): a fixed-address image whose type data is mapped from the
        // file, not unpacked into fresh pages at every start.
        var elf = File.ReadAllBytes(exe);
        Assert.Equal(2, BitConverter.ToUInt16(elf, 16)); // ET_EXEC; ET_DYN (3) is position-independent
        Assert.True(elf.AsSpan().IndexOf(".hydrated\0"u8) < 0, "the binary has a .hydrated section: NativeAOT dehydration is on again");
        var lint = Run(exe, dir.Path, "lint", Path.Combine(Paths.Fixtures, "bad", "duplicate-address.xml"));
        Assert.Equal(1, lint.Code);
        Assert.Contains("LP301", lint.Err);
    }
}
