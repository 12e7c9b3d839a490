using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Workflows;

/// <summary>The pre-commit and commit-msg hooks in a real temporary Git repository, run by real `git commit`.</summary>
public sealed class GitHookTests : IDisposable
{
    private readonly TempDir _repo = new();
    private static string Binary => Path.Combine(AppContext.BaseDirectory, "libvirt-pci");

    public GitHookTests()
    {
        Git("init", "-q");
        Git("config", "user.email", "test@example.com");
        Git("config", "user.name", "test");
        Git("config", "commit.gpgsign", "false");
    }

    public void Dispose() => _repo.Dispose();

    private Proc.Result Run(string file, params string[] args) =>
        Proc.Run(file, args, _repo.Path, new Dictionary<string, string?> { ["GIT_DIR"] = null, ["GIT_INDEX_FILE"] = null });

    private Proc.Result Git(params string[] args) => Run("git", args);
    private Proc.Result Tool(params string[] args) => Run(Binary, args);

    private void Copy(string fixture, string name) => File.Copy(Path.Combine(Paths.Fixtures, fixture), Path.Combine(_repo.Path, name), overwrite: true);

    [Fact]
    public void Check_hook_refuses_a_domain_without_addresses_then_the_printed_fix_lets_it_in()
    {
        Assert.Equal(0, Tool("hook", "install", "--command", Binary).Code);
        Copy("examples/q35-web.xml", "web.xml");
        Copy("bad/not-a-domain.xml", "network.xml");
        Git("add", "web.xml", "network.xml");
        var refused = Git("commit", "-q", "-m", "add vms");
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("+      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>", refused.Out + refused.Err);
        Assert.Contains($"Fix it with:  {Binary} -i --stable web.xml && git add web.xml", refused.Err); // a command that works as printed
        Assert.Contains("--stable records every address in the domain's ledger", refused.Err);
        Assert.DoesNotContain("network.xml", refused.Err); // not a domain: ignored

        Assert.Equal(0, Tool("-i", "--stable", "web.xml").Code);
        Git("add", "web.xml");
        var ok = Git("commit", "-q", "-m", "add vms");
        Assert.True(ok.Code == 0, ok.Err);
        Assert.Contains("<address type='pci'", Git("show", "HEAD:web.xml").Out);
        Assert.Contains("urn:libvirt-pci:ledger:1", Git("show", "HEAD:web.xml").Out); // the fix as printed keeps addresses stable
    }

    [Fact]
    public void When_the_recorded_binary_is_gone_the_hook_runs_libvirt_pci_from_PATH_and_says_so_when_there_is_none()
    {
        using var bin = new TempDir();
        string Wrapper(string dir) => bin.File(Path.Combine(dir, "libvirt-pci"), System.Text.Encoding.UTF8.GetBytes($"#!/bin/sh\nexec '{Binary}' \"$@\"\n"));
        var moved = Wrapper("old");
        File.SetUnixFileMode(moved, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        var install = Tool("hook", "install", "--command", moved);
        Assert.Equal(0, install.Code);
        Assert.Contains("or, when that is gone, libvirt-pci on PATH, then ~/.dotnet/tools/libvirt-pci", install.Err);
        File.Delete(moved);

        var onPath = Wrapper("path");
        File.SetUnixFileMode(onPath, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        Copy("examples/q35-web.xml", "web.xml");
        Git("add", "web.xml");
        var path = Path.GetDirectoryName(onPath) + ":" + Environment.GetEnvironmentVariable("PATH");
        var env = new Dictionary<string, string?> { ["GIT_DIR"] = null, ["GIT_INDEX_FILE"] = null, ["PATH"] = path, ["HOME"] = bin.Path };
        var refused = Proc.Run("git", ["commit", "-q", "-m", "x"], _repo.Path, env);
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("Fix it with:  libvirt-pci -i --stable web.xml && git add web.xml", refused.Err); // the one on PATH did the check

        env["PATH"] = Environment.GetEnvironmentVariable("PATH");
        var none = Proc.Run("git", ["commit", "-q", "-m", "x"], _repo.Path, env);
        Assert.NotEqual(0, none.Code);
        Assert.Contains($"libvirt-pci is not at {moved}, not on PATH and not in ~/.dotnet/tools; install it, or set LIBVIRT_PCI=", none.Err);
    }

    [Fact]
    public void A_libvirt_pci_json_in_the_repository_changes_what_the_hook_checks()
    {
        Assert.Equal(0, Tool("hook", "install", "--command", Binary).Code);
        File.WriteAllText(Path.Combine(_repo.Path, ".libvirt-pci.json"), "{ \"libvirtVersion\": \"9.0\" }\n");
        File.WriteAllText(Path.Combine(_repo.Path, "snd.xml"), LibvirtPci.Tests.Cli.ProjectSettingsTests.VirtioSound);
        Git("add", ".libvirt-pci.json", "snd.xml");
        var refused = Git("commit", "-q", "-m", "virtio sound");
        Assert.NotEqual(0, refused.Code); // libvirt 9.0 has no virtio sound model
        Assert.Contains("error LP221", refused.Err);

        File.WriteAllText(Path.Combine(_repo.Path, ".libvirt-pci.json"), "{ \"libvirtVersion\": \"11.3\" }\n");
        Assert.Equal(0, Tool("--libvirt-version", "11.3", "-i", "snd.xml").Code);
        Git("add", ".libvirt-pci.json", "snd.xml");
        var accepted = Git("commit", "-q", "-m", "the fleet runs libvirt 11.3");
        Assert.True(accepted.Code == 0, accepted.Err);
    }

    [Fact]
    public void The_hook_checks_the_staged_content_not_the_work_tree()
    {
        Assert.Equal(0, Tool("hook", "install", "--command", Binary).Code);
        Copy("examples/q35-web.xml", "web.xml");
        Git("add", "web.xml");
        Assert.Equal(0, Tool("-i", "web.xml").Code); // fixed in the work tree only, not staged
        Assert.NotEqual(0, Git("commit", "-q", "-m", "x").Code);
    }

    [Fact]
    public void Fix_mode_commits_the_fixed_file()
    {
        Assert.Equal(0, Tool("hook", "install", "--fix", "--command", Binary).Code);
        Copy("examples/q35-web.xml", "web.xml");
        Git("add", "web.xml");
        var r = Git("commit", "-q", "-m", "add");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("web.xml: PCI addresses assigned and re-staged", r.Err);
        var committed = Git("show", "HEAD:web.xml").Out;
        Assert.Contains("<controller type='pci' index='1' model='pcie-root-port'>", committed);
        Assert.Equal(committed, File.ReadAllText(Path.Combine(_repo.Path, "web.xml"))); // work tree kept in step
        Assert.Contains("urn:libvirt-pci:ledger:1", committed); // --fix wrote {"stable": true}: its fixes keep addresses stable
        Assert.Equal("{ \"stable\": true }\n", File.ReadAllText(Path.Combine(_repo.Path, ".libvirt-pci.json")));
        Assert.Equal("?? .libvirt-pci.json\n", Git("status", "--porcelain").Out);
    }

    [Fact]
    public void A_foreign_hook_is_not_overwritten_without_force_and_uninstall_leaves_it()
    {
        var hooks = Path.Combine(_repo.Path, ".git", "hooks");
        Directory.CreateDirectory(hooks);
        File.WriteAllText(Path.Combine(hooks, "pre-commit"), "#!/bin/sh\nexit 0\n");
        var r = Tool("hook", "install");
        Assert.Equal(2, r.Code);
        Assert.Contains("LP120", r.Err);
        Assert.Equal(2, Tool("hook", "uninstall").Code);
        Assert.Equal("#!/bin/sh\nexit 0\n", File.ReadAllText(Path.Combine(hooks, "pre-commit")));
        Assert.Equal(0, Tool("hook", "install", "--force", "--command", Binary).Code);
        Assert.Equal(0, Tool("hook", "uninstall").Code);
        Assert.False(File.Exists(Path.Combine(hooks, "pre-commit")));
    }

    private const string Web = DomainEdit.TwoNicQ35;

    [Fact]
    public void The_commit_msg_hook_refuses_renamed_nics_until_the_trailer_accepts_them()
    {
        Assert.Equal(0, Tool("hook", "install", "--command", Binary).Code);
        var file = Path.Combine(_repo.Path, "web.xml");
        File.WriteAllText(file, Web);
        Assert.Equal(0, Tool("-i", "web.xml").Code); // addresses, no ledger
        Git("add", "web.xml");
        Assert.Equal(0, Git("commit", "-q", "-m", "web").Code);

        // a root port and a bridge put before the devices, addresses assigned again without the ledger
        File.WriteAllText(file, Web.Replace("<devices>", "<devices>\n    <controller type='pci' index='0' model='pcie-root'/><controller type='pci' model='pcie-root-port'/><controller type='pci' model='pcie-to-pci-bridge'/>", StringComparison.Ordinal));
        Assert.Equal(0, Tool("-i", "web.xml").Code);
        Git("add", "web.xml");
        var refused = Git("commit", "-q", "-m", "add a bridge");
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("interface/52:54:00:00:00:01", refused.Err);
        Assert.Contains("Linux renames the NIC enp1s0 → enp3s0", refused.Err);
        Assert.Contains("git commit --trailer 'Guest-Visible: accepted'", refused.Err);
        Assert.Equal(1, Git("rev-list", "--count", "HEAD").Out.Trim() == "1" ? 1 : 0);

        // `diff --cached` shows the same before committing
        Assert.Equal(1, Tool("diff", "--cached", "--", "web.xml").Code);

        var accepted = Git("commit", "-q", "-m", "add a bridge", "--trailer", "Guest-Visible: accepted");
        Assert.True(accepted.Code == 0, accepted.Err);
        Assert.Equal(0, Tool("diff", "HEAD", "--", "web.xml").Code); // work tree = HEAD now
        Assert.Equal(1, Tool("diff", "HEAD~1", "HEAD", "--", "web.xml").Code);
    }

    [Fact]
    public void The_commit_msg_hook_lets_through_what_keeps_every_device_where_the_guest_knows_it()
    {
        Assert.Equal(0, Tool("hook", "install", "--command", Binary).Code);
        var file = Path.Combine(_repo.Path, "web.xml");
        File.WriteAllText(file, Web);
        Assert.Equal(0, Tool("-i", "--stable", "web.xml").Code);
        Git("add", "web.xml");
        Assert.Equal(0, Git("commit", "-q", "-m", "web").Code);
        // a NIC added with the ledger: only an addition
        File.WriteAllText(file, File.ReadAllText(file).Replace("</devices>", "  <interface type='network'><mac address='52:54:00:00:00:03'/><source network='default'/><model type='virtio'/></interface>\n  </devices>", StringComparison.Ordinal));
        Assert.Equal(0, Tool("-i", "--stable", "web.xml").Code);
        Git("add", "web.xml");
        var ok = Git("commit", "-q", "-m", "a third NIC");
        Assert.True(ok.Code == 0, ok.Err);
        var diff = Tool("diff", "HEAD~1", "HEAD", "--", "web.xml");
        Assert.Equal(0, diff.Code);
        Assert.Contains("interface/52:54:00:00:00:03", diff.Out);
        Assert.Contains("new device", diff.Out);
    }
}
