using System.Text;
using System.Text.Json.Nodes;
using LibvirtPci.Tests.Integration;
using LibvirtPci.Tests.Support;
using LibvirtPci.Addressing;
using LibvirtPci.Rewrite;
using LibvirtPci.Tools;
using LibvirtPci.Xml;
using Xunit.Abstractions;

namespace LibvirtPci.Tests.Fleet;

/// <summary>The libvirt_pci.fleet collection with Debian's ansible-core: documentation and build.</summary>
[Trait("Category", "Ansible")]
public sealed class AnsibleCollectionTests
{
    [SkippableTheory]
    [InlineData("libvirt_pci.fleet.domain_xml", "module", "Give libvirt domain XML files the PCI addresses libvirt would")]
    [InlineData("libvirt_pci.fleet.domains", "module", "Record and stabilise the PCI addresses")]
    [InlineData("libvirt_pci.fleet.install", "role", "Install libvirt-pci on a KVM host - the release's package or its binary, checksum verified")]
    public void Ansible_doc_documents_every_module_and_role(string name, string type, string summary)
    {
        Ansible.Require();
        using var dir = new TempDir();
        var doc = Ansible.Tool(dir.Path, "ansible-doc", "-t", type, name);
        Assert.True(doc.Code == 0, doc.Err);
        Assert.DoesNotContain("ERROR", doc.Err);
        Assert.Contains(name.ToUpperInvariant(), doc.Out);
        var snippet = Ansible.Tool(dir.Path, "ansible-doc", "-t", type, "--json", name);
        var json = JsonNode.Parse(snippet.Out)![name]!;
        var d = type == "module" ? json["doc"]! : json["entry_points"]!["main"]!;
        Assert.StartsWith(summary, d["short_description"]!.GetValue<string>());
        foreach (var (option, spec) in d["options"]!.AsObject())
            Assert.False(string.IsNullOrWhiteSpace(spec!["description"]?.ToJsonString().Trim('[', ']', '"')), $"{name}: option {option} has no description");
    }

    private const string Inventory = "localhost ansible_connection=local\n";

    private static string InstallPlay(string src, string sha256, string dest) => $"""
        - hosts: localhost
          gather_facts: false
          roles:
            - role: libvirt_pci.fleet.install
              libvirt_pci_src: {src}
              libvirt_pci_sha256: "{sha256}"
              libvirt_pci_dest: {dest}
        """;

    private static string Sha256(string file) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));

    /// <summary>
    /// The role copies a binary only when its SHA-256 is the one given, then asks it its version.
    /// A single-file binary is needed: the NativeAOT one when the suite runs against it, else a
    /// script that answers --version (the role checks bytes and version, nothing else).
    /// </summary>
    [SkippableFact]
    public void The_install_role_verifies_the_checksum_and_the_version()
    {
        Ansible.Require();
        using var dir = new TempDir();
        dir.File("hosts", Encoding.UTF8.GetBytes(Inventory));
        string Script(string name, string version)
        {
            var path = dir.File(name, Encoding.UTF8.GetBytes($"#!/bin/sh\n[ \"$1\" = --version ] && echo {version}\n"));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return path;
        }
        var binary = Support.Cli.ExternalBinary ?? Script("libvirt-pci-build", "0.2.0");
        var dest = Path.Combine(dir.Path, "bin", "libvirt-pci");
        Directory.CreateDirectory(Path.GetDirectoryName(dest)!);

        dir.File("bad-sum.yml", Encoding.UTF8.GetBytes(InstallPlay(binary, new string('0', 64), dest)));
        var refused = Ansible.Playbook(dir.Path, "bad-sum.yml", "hosts");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("expected 0000", refused.Result("Refuse a file whose SHA-256 is not the one given")["msg"]!.GetValue<string>());
        Assert.False(File.Exists(dest));

        dir.File("good.yml", Encoding.UTF8.GetBytes(InstallPlay(binary, Sha256(binary), dest)));
        var installed = Ansible.Playbook(dir.Path, "good.yml", "hosts");
        Assert.True(installed.ExitCode == 0, installed.Stdout + installed.Stderr);
        Assert.Equal(File.ReadAllBytes(binary), File.ReadAllBytes(dest));
        Assert.True(installed.Result("Copy the binary to the host")["changed"]!.GetValue<bool>());
        Assert.False(Ansible.Playbook(dir.Path, "good.yml", "hosts").Result("Copy the binary to the host")["changed"]!.GetValue<bool>());

        var old = Script("libvirt-pci-old", "0.1.0");
        var oldDest = Path.Combine(dir.Path, "bin", "old");
        dir.File("old.yml", Encoding.UTF8.GetBytes(InstallPlay(old, Sha256(old), oldDest)));
        var tooOld = Ansible.Playbook(dir.Path, "old.yml", "hosts");
        Assert.NotEqual(0, tooOld.ExitCode);
        Assert.Contains("is libvirt-pci 0.1.0; the fleet modules need 0.2.0 or newer", tooOld.Result("Check it is recent enough for the fleet modules")["msg"]!.GetValue<string>());
    }

    [SkippableFact]
    public void A_missing_or_old_libvirt_pci_names_the_install_role()
    {
        Ansible.Require();
        using var dir = new TempDir();
        dir.File("hosts", Encoding.UTF8.GetBytes(Inventory));
        var old = dir.File("old-libvirt-pci", "#!/bin/sh\necho 0.1.0\n"u8.ToArray());
        File.SetUnixFileMode(old, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        dir.File("play.yml", Encoding.UTF8.GetBytes($"""
            - hosts: localhost
              gather_facts: false
              tasks:
                - name: missing
                  libvirt_pci.fleet.domain_xml:
                    path: {dir.Path}
                    binary: {dir.Path}/nothing-here
                  ignore_errors: true
                - name: old
                  libvirt_pci.fleet.domains:
                    binary: {old}
                  ignore_errors: true
            """));
        var run = Ansible.Playbook(dir.Path, "play.yml", "hosts");
        Assert.Equal($"libvirt-pci is not at {dir.Path}/nothing-here (or not executable): install it with the role libvirt_pci.fleet.install",
            run.Result("missing")["msg"]!.GetValue<string>());
        Assert.Equal($"libvirt-pci 0.1.0 at {old} is too old: these modules need 0.2.0 or newer; upgrade it with the role libvirt_pci.fleet.install",
            run.Result("old")["msg"]!.GetValue<string>());
    }

    [SkippableFact]
    public void Ansible_galaxy_builds_the_collection()
    {
        Ansible.Require();
        using var dir = new TempDir();
        var build = Ansible.Tool(dir.Path, "ansible-galaxy", "collection", "build", Ansible.Collection, "--output-path", dir.Path);
        Assert.True(build.Code == 0, build.Err + build.Out);
        var tarball = Path.Combine(dir.Path, "libvirt_pci-fleet-0.2.0.tar.gz");
        Assert.True(File.Exists(tarball), build.Out);
        var listing = Proc.Run("tar", ["-tzf", tarball]).Out;
        foreach (var f in new[] { "plugins/modules/domain_xml.py", "plugins/modules/domains.py", "plugins/module_utils/libvirt_pci.py",
                     "roles/install/tasks/main.yml", "playbooks/fleet_migrate.yml", "README.md", "CHANGELOG.md", "MANIFEST.json" })
            Assert.Contains(f, listing);
    }

    /// <summary>
    /// ansible-test sanity, as far as Debian's ansible-core runs it here: 22 of its 29 tests need
    /// nothing but the collection; the other 7 (ansible-doc, import, pep8, pylint, runtime-metadata,
    /// validate-modules, yamllint) first bootstrap pip into a venv from the network, which this
    /// machine does not reach. Run on a copy, so that its tests/output stays out of the repository.
    /// </summary>
    [SkippableFact]
    public void Ansible_test_sanity_passes_every_test_that_runs_offline()
    {
        Ansible.Require();
        Require.Available(File.Exists("/usr/bin/ansible-test") ? null : "ansible-test is not installed (Debian's ansible-core has it)");
        using var dir = new TempDir();
        var copy = Path.Combine(dir.Path, "ansible_collections", "libvirt_pci", "fleet");
        Directory.CreateDirectory(copy);
        Assert.Equal(0, Proc.Run("cp", ["-r", Ansible.Collection + "/.", copy]).Code);
        string[] offline = ["action-plugin-docs", "changelog", "compile", "empty-init", "future-import-boilerplate", "ignores", "line-endings",
            "metaclass-boilerplate", "no-assert", "no-basestring", "no-dict-iteritems", "no-get-exception", "no-illegal-filenames", "no-main-display",
            "no-smart-quotes", "no-unicode-literals", "replace-urlopen", "shebang", "shellcheck", "symlinks", "use-argspec-type-path", "use-compat-six"];
        var python = Proc.Run("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).Out.Trim();
        var sanity = Proc.Run("ansible-test", ["sanity", "--python", python, .. offline.SelectMany(t => new[] { "--test", t })], copy);
        Assert.True(sanity.Code == 0, sanity.Out + sanity.Err);
        Assert.DoesNotContain("ERROR", sanity.Out);
    }
}

/// <summary>
/// The module domain_xml in a playbook against localhost on a folder of domain XML: check mode
/// reports changed and leaves every byte alone, diff mode shows the address lines, a real run
/// changes the files, a second one reports changed=false; a bad file fails alone.
/// </summary>
[Trait("Category", "Ansible")]
public sealed class DomainXmlModuleTests(ITestOutputHelper output)
{
    private const string Inventory = "localhost ansible_connection=local\n";
    private const string Task = "address the domain definitions";

    private static string Playbook(string folder) => $"""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: {Task}
              libvirt_pci.fleet.domain_xml:
                path: {folder}
                stable: true
                libvirt_version: "9.0"
                binary: {Ansible.Binary}
        """;

    private static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => f, File.ReadAllBytes);

    [SkippableFact]
    public void Check_diff_apply_idempotent_and_one_bad_file()
    {
        Ansible.Require();
        using var dir = new TempDir();
        var vms = Path.Combine(dir.Path, "vms");
        dir.CopyFixture("examples/q35-web.xml", "vms/web.xml");
        dir.CopyFixture("bad/not-a-domain.xml", "vms/network.xml");
        for (int seed = 1; seed <= 3; seed++)
            dir.File($"vms/gen{seed}.xml", Encoding.UTF8.GetBytes(new DomainGenerator(seed).Generate(new DomainGenerator.Options(Machine: seed % 2 == 0 ? "q35" : "pc"))));
        dir.File("hosts", Encoding.UTF8.GetBytes(Inventory));
        dir.File("play.yml", Encoding.UTF8.GetBytes(Playbook(vms)));
        var original = Snapshot(vms);

        // Check mode: changed, every byte left alone.
        var check = Ansible.Playbook(dir.Path, "play.yml", "hosts", "--check");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        var checkResult = check.Result(Task);
        Assert.True(checkResult["changed"]!.GetValue<bool>());
        Assert.Equal(4, checkResult["changed_files"]!.AsArray().Count);
        Assert.NotNull(checkResult["guest_visible_changes"]!.AsObject()); // per file, what the guest would see move (diff)
        Assert.Equal("skipped", checkResult["files"]!.AsArray().Single(f => f!["file"]!.GetValue<string>().EndsWith("network.xml"))!["status"]!.GetValue<string>());
        Assert.All(original, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));

        // Diff mode (with check): before and after of each changed file, the address lines added.
        var diff = Ansible.Playbook(dir.Path, "play.yml", "hosts", "--check", "--diff");
        var diffs = diff.Result(Task)["diff"]!.AsArray();
        Assert.Equal(4, diffs.Count);
        foreach (var d in diffs)
        {
            int before = Count(d!["before"]!.GetValue<string>()), after = Count(d["after"]!.GetValue<string>());
            Assert.True(after > before, $"{d["after_header"]}: {before} → {after} PCI addresses");
        }
        Assert.All(original, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));

        // A real run changes the files, exactly as the CLI would.
        var apply = Ansible.Playbook(dir.Path, "play.yml", "hosts");
        Assert.True(apply.ExitCode == 0, apply.Stdout + apply.Stderr);
        Assert.True(apply.Result(Task)["changed"]!.GetValue<bool>());
        foreach (var (file, bytes) in original)
        {
            if (file.EndsWith("network.xml", StringComparison.Ordinal)) { Assert.Equal(bytes, File.ReadAllBytes(file)); continue; }
            Assert.NotEqual(bytes, File.ReadAllBytes(file));
            var plan = global::LibvirtPci.Rewrite.Rewriter.Assign(global::LibvirtPci.Xml.SourceText.FromBytes(file, bytes), new() { Libvirt = ToolTarget.Libvirt90, Stable = true });
            Assert.Equal(plan.Bytes, File.ReadAllBytes(file));
        }
        var devices = apply.Result(Task)["files"]!.AsArray().Where(f => f!["devices"] is not null).SelectMany(f => f!["devices"]!.AsArray()).ToList();
        Assert.Contains(devices, d => d!["origin"]!.GetValue<string>() == "assigned");

        // A second run: nothing to do.
        var again = Ansible.Playbook(dir.Path, "play.yml", "hosts");
        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        Assert.False(again.Result(Task)["changed"]!.GetValue<bool>());

        // One bad file fails with the CLI's FILE:LINE:COL message; a new good one is still done.
        var bad = dir.CopyFixture("bad/malformed.xml", "vms/bad.xml");
        var fresh = dir.File("vms/new.xml", Encoding.UTF8.GetBytes(new DomainGenerator(9).Generate(new DomainGenerator.Options(Machine: "q35"))));
        var freshBefore = File.ReadAllBytes(fresh);
        var mixed = Ansible.Playbook(dir.Path, "play.yml", "hosts");
        output.WriteLine(mixed.Result(Task)["msg"]?.ToString());
        Assert.NotEqual(0, mixed.ExitCode);
        var failedResult = mixed.Result(Task);
        Assert.True(failedResult["failed"]!.GetValue<bool>());
        var expected = Support.Cli.Run("lint", bad).Stderr.Split('\n')[0];
        Assert.Matches(@"^.+bad\.xml:\d+:\d+: error LP2\d\d: ", expected);
        Assert.Contains(expected, failedResult["msg"]!.GetValue<string>());
        Assert.Equal([fresh], failedResult["changed_files"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.NotEqual(freshBefore, File.ReadAllBytes(fresh));
        // short: statuses and findings, not every device of every file (the callback prints it whole)
        Assert.All(failedResult["files"]!.AsArray(), f => Assert.Null(f!["devices"]));
        Assert.True(failedResult.ToJsonString().Length < 4000, $"{failedResult.ToJsonString().Length} characters");
    }

    /// <summary>
    /// Domains with the patterns real ones have (the generator's wild mode: lone ich9-ehci1, functions
    /// above 0, ports without index, NICs without MAC, IDE next to SATA …): the first run changes
    /// them, the second finds its own output stable — changed=false, not failed.
    /// </summary>
    [SkippableFact]
    public void A_second_run_over_wild_domains_changes_nothing_and_fails_nothing()
    {
        Ansible.Require();
        using var dir = new TempDir();
        var vms = Path.Combine(dir.Path, "vms");
        // (the few wild domains libvirt itself refuses are refused by the tool too: not this test's question)
        for (int seed = 1, kept = 0; kept < 40; seed++)
        {
            var xml = new DomainGenerator(seed).Generate(new DomainGenerator.Options(Wild: true));
            if (Support.Cli.RunWithStdin(Encoding.UTF8.GetBytes(xml), "--libvirt-version", "9.0").ExitCode != 0) continue;
            dir.File($"vms/wild{seed}.xml", Encoding.UTF8.GetBytes(xml));
            kept++;
        }
        dir.File("hosts", Encoding.UTF8.GetBytes(Inventory));
        dir.File("play.yml", Encoding.UTF8.GetBytes(Playbook(vms)));
        var first = Ansible.Playbook(dir.Path, "play.yml", "hosts");
        Assert.True(first.ExitCode == 0, first.Result(Task)["msg"]?.ToString() ?? first.Stdout + first.Stderr);
        Assert.True(first.Result(Task)["changed"]!.GetValue<bool>());
        var written = Snapshot(vms);
        var second = Ansible.Playbook(dir.Path, "play.yml", "hosts");
        Assert.True(second.ExitCode == 0, second.Result(Task)["msg"]?.ToString() ?? second.Stdout + second.Stderr);
        Assert.False(second.Result(Task)["changed"]!.GetValue<bool>());
        Assert.All(written, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));
    }

    private static int Count(string xml) => xml.Split("<address type='pci'").Length - 1;
}

/// <summary>
/// The module domains against four real libvirt daemons as four inventory hosts (Debian 11's
/// 7.0, the host's 9.0, Debian 13's 11.3 and its backports' 12.9): check mode defines nothing, a
/// run migrates every domain and rolls back the one whose define is refused, a second run has
/// nothing to do; and the example playbook libvirt_pci.fleet.fleet_migrate over all, with its summary and the
/// backups fetched.
/// </summary>
[Trait("Category", "Integration")]
[Collection("libvirt")]
public sealed class DomainsModuleTests(ITestOutputHelper output)
{
    private static readonly string[] Names = ["fleet-q35-a", "fleet-pc-b", "fleet-q35-c", "refuse-me"];
    private const string Task = "migrate the domains";

    private static readonly (string Host, LibvirtDaemon Daemon, string Version)[] Hosts =
        [("kvm70", LibvirtDaemon.Bullseye, "7.0"), ("kvm90", LibvirtDaemon.Host, "9.0"), ("kvm113", LibvirtDaemon.Trixie, "11.3"), ("kvm129", LibvirtDaemon.TrixieBackports, "12.9")];

    /// <param name="refusing">the hosts whose virsh refuses to define refuse-me's new XML</param>
    private static string Inventory(string wrapper, params string[] refusing) =>
        "[kvm]\n" + string.Concat(Hosts.Select(h => $"{h.Host} ansible_connection=local libvirt_uri={h.Daemon.Uri} libvirt_pci_virsh={(refusing.Contains(h.Host) ? wrapper : "/usr/bin/virsh")}\n"))
        + "[kvm_hosts:children]\nkvm\n"; // the README's group

    private static string Playbook(string backups, string? only = null) => $"""
        - hosts: kvm
          gather_facts: false
          tasks:
            - name: {Task}
              libvirt_pci.fleet.domains:
                uri: "{"{{ libvirt_uri }}"}"
                virsh: "{"{{ libvirt_pci_virsh }}"}"
                backup_dir: {backups}/{"{{ inventory_hostname }}"}
                binary: {Ansible.Binary}
        {(only is null ? "" : $"        domains: [{only}]\n")}
        """;

    private static string Dump(LibvirtDaemon daemon, string name) => Proc.Run("virsh", ["-q", "-c", daemon.Uri, "dumpxml", "--inactive", name]).Out;

    private static void DefineAll(LibvirtDaemon daemon, string version, TempDir dir)
    {
        for (int i = 0; i < Names.Length; i++)
        {
            var xml = new DomainGenerator(900 + i).Generate(new DomainGenerator.Options(Machine: Names[i].Contains("pc") ? "pc" : "q35", NewerDevices: version is "11.3" or "12.9"))
                .Replace($"<name>gen-{900 + i}</name>", $"<name>{Names[i]}</name>", StringComparison.Ordinal);
            var define = Proc.Run("virsh", ["-c", daemon.Uri, "define", dir.File($"{version}-{Names[i]}.xml", Encoding.UTF8.GetBytes(xml))]);
            Assert.True(define.Code == 0, define.Err);
        }
    }

    private static void UndefineAll()
    {
        foreach (var (_, daemon, _) in Hosts)
            foreach (var n in Names) Proc.Run("virsh", ["-c", daemon.Uri, "undefine", "--nvram", n]);
    }

    /// <summary>Every daemon (libvirt 7.0, 9.0, 11.3, 12.9) with the test's domains defined, an inventory whose <paramref name="refusing"/> hosts refuse refuse-me's new XML; everything undefined after.</summary>
    private static void OnDaemons(string[] refusing, Action<TempDir> body)
    {
        Ansible.Require();
        foreach (var h in Hosts) h.Daemon.Require();
        using var dir = new TempDir();
        dir.File("hosts", Encoding.UTF8.GetBytes(Inventory(RefusingVirsh.Write(dir, "refuse-me"), refusing)));
        UndefineAll();
        try
        {
            foreach (var (_, daemon, version) in Hosts) DefineAll(daemon, version, dir);
            body(dir);
        }
        finally
        {
            UndefineAll();
        }
    }

    [SkippableFact]
    public void Check_then_apply_with_one_rollback_then_nothing_to_do_on_four_daemons() => OnDaemons(["kvm70", "kvm90", "kvm113", "kvm129"], dir =>
    {
        var backups = Path.Combine(dir.Path, "backups");
        dir.File("play.yml", Encoding.UTF8.GetBytes(Playbook(backups)));
        var before = Hosts.ToDictionary(h => h.Host, h => Names.ToDictionary(n => n, n => Dump(h.Daemon, n)));

        var check = Ansible.Playbook(dir.Path, "play.yml", "hosts", "--check", "--diff");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        foreach (var (host, daemon, version) in Hosts)
        {
            var r = check.Result(Task, host);
            Assert.True(r["changed"]!.GetValue<bool>());
            Assert.Equal(version, r["libvirt"]!["version"]!.GetValue<string>());
            Assert.Equal(Names.Length, r["diff"]!.AsArray().Count);
            Assert.All(Names, n => Assert.Equal(before[host][n], Dump(daemon, n)));
        }

        var apply = Ansible.Playbook(dir.Path, "play.yml", "hosts");
        Assert.Equal(2, apply.ExitCode); // a host with a failed domain is a failed host
        foreach (var (host, daemon, _) in Hosts)
        {
            var r = apply.Result(Task, host);
            output.WriteLine($"{host}: {r["msg"]}");
            Assert.True(r["failed"]!.GetValue<bool>());
            Assert.Contains("1 of 4 domains failed: refuse-me: LP132", r["msg"]!.GetValue<string>());
            var status = r["domains"]!.AsArray().ToDictionary(d => d!["domain"]!.GetValue<string>(), d => d!["status"]!.GetValue<string>());
            Assert.Equal("rolled back", status["refuse-me"]);
            Assert.All(Names.Where(n => n != "refuse-me"), n => Assert.Equal("changed", status[n]));
            Assert.Empty(r["guest_visible_changes"]!.AsObject()); // recording the ledger moves nothing the guest sees
            // restored: libvirt 11.3 re-orders a redefined domain's controllers, so compare by meaning
            var restored = Dump(daemon, "refuse-me");
            Assert.Empty(global::LibvirtPci.Addressing.PciFacts.Diff(global::LibvirtPci.Addressing.PciFacts.Of(before[host]["refuse-me"]), global::LibvirtPci.Addressing.PciFacts.Of(restored)));
            Assert.DoesNotContain("urn:libvirt-pci:ledger:1", restored);
            Assert.All(Names.Where(n => n != "refuse-me"), n => Assert.Contains("urn:libvirt-pci:ledger:1", Dump(daemon, n)));
            Assert.All(Names, n => Assert.True(File.Exists(Path.Combine(backups, host, n + ".xml")), $"{host}: no backup of {n}"));
        }

        dir.File("again.yml", Encoding.UTF8.GetBytes(Playbook(Path.Combine(dir.Path, "again"), string.Join(", ", Names.Where(n => n != "refuse-me")))));
        var again = Ansible.Playbook(dir.Path, "again.yml", "hosts");
        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        foreach (var (host, _, _) in Hosts)
            Assert.False(again.Result(Task, host)["changed"]!.GetValue<bool>());
    });

    [SkippableFact]
    public void The_example_playbook_migrates_every_host_fetches_backups_and_sums_up() => OnDaemons(["kvm113"], dir =>
    {
        // by its name, as the README runs it; one batch of every host; one fails (25%, under max_fail), so the play goes on to the summary
        var run = Ansible.Playbook(dir.Path, "libvirt_pci.fleet.fleet_migrate", "hosts", "-e", "target=kvm", "-e", "batch=4", "-e", "max_fail=60",
            "-e", $"backups={dir.Path}/fetched", "-e", $"libvirt_pci_dest={Ansible.Binary}");
        output.WriteLine(run.Stderr);
        Assert.Equal(2, run.ExitCode); // kvm113 had a rolled-back domain
        var summary = run.Result("Domains checked / changed / failed, per host")["msg"]!.GetValue<string>();
        output.WriteLine(summary);
        Assert.Equal("kvm70: 4 checked, 4 changed, 0 failed (libvirt 7.0); kvm90: 4 checked, 4 changed, 0 failed (libvirt 9.0); kvm113: 4 checked, 3 changed, 1 failed (libvirt 11.3); kvm129: 4 checked, 4 changed, 0 failed (libvirt 12.9)", summary);
        foreach (var (host, _, _) in Hosts)
        {
            var fetched = Directory.GetFiles(Path.Combine(dir.Path, "fetched"), "*.xml", SearchOption.AllDirectories)
                .Where(f => f.Contains(Path.DirectorySeparatorChar + host + Path.DirectorySeparatorChar, StringComparison.Ordinal)).Select(Path.GetFileName).Order().ToList();
            Assert.Equal(Names.Order().Select(n => n + ".xml"), fetched);
        }
    });

    /// <summary>
    /// The README's example as written: the release's fleet_migrate.yml (the collection's playbook,
    /// copied beside the inventory) over the group kvm_hosts, --check --diff then for real, nothing
    /// else but where each host's binary is. No warnings; the migrate
    /// task says what it does in both modes; check mode says "would change"; the originals land in
    /// libvirt-pci-backups/RUN/HOST/ in the folder it ran in.
    /// </summary>
    [SkippableFact]
    public void The_readme_example_runs_without_warnings_names_its_tasks_truly_and_keeps_backups_beside_the_caller() => OnDaemons([], dir =>
    {
        const string migrateTask = "Migrate every domain - record its addresses, define, verify (in check mode - only report)";
        const string summaryTask = "Domains checked / changed / failed, per host";
        File.Copy(Path.Combine(Ansible.Collection, "playbooks", "fleet_migrate.yml"), Path.Combine(dir.Path, "fleet_migrate.yml"));
        var check = Ansible.Playbook(dir.Path, "fleet_migrate.yml", "hosts", "--check", "--diff", "-e", $"libvirt_pci_dest={Ansible.Binary}");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.DoesNotContain("[WARNING]", check.Stderr);
        Assert.All(Hosts, h => Assert.True(check.Result(migrateTask, h.Host)["changed"]!.GetValue<bool>()));
        Assert.Equal(string.Join("; ", Hosts.Select(h => $"{h.Host}: 4 checked, 4 would change, 0 failed (libvirt {h.Version})")),
            check.Result(summaryTask)["msg"]!.GetValue<string>());
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "libvirt-pci-backups")));

        var run = Ansible.Playbook(dir.Path, "fleet_migrate.yml", "hosts", "-e", $"libvirt_pci_dest={Ansible.Binary}");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.DoesNotContain("[WARNING]", run.Stderr);
        Assert.Equal(string.Join("; ", Hosts.Select(h => $"{h.Host}: 4 checked, 4 changed, 0 failed (libvirt {h.Version})")),
            run.Result(summaryTask)["msg"]!.GetValue<string>());
        var runs = Directory.GetDirectories(Path.Combine(dir.Path, "libvirt-pci-backups"));
        var only = Assert.Single(runs);
        Assert.Matches(@"^\d{8}T\d{6}Z$", Path.GetFileName(only));
        foreach (var (host, _, _) in Hosts)
            Assert.Equal(Names.Order().Select(n => n + ".xml"), Directory.GetFiles(Path.Combine(only, host)).Select(Path.GetFileName).Order());
    });
}

/// <summary>
/// A Debian 11 host (glibc 2.31, Python 3.9, libvirt 7.0): the bullseye chroot the daemon tests
/// use, reached by Ansible through a Python that runs inside it (each module in a private mount
/// namespace with Ansible's remote temporary folder bound in at the same path, so copy and the
/// modules see what the controller sent). The install role puts the NativeAOT binary there and
/// runs it; domain_xml then rewrites a domain with no libvirt_version given — the host's own
/// libvirt (7.0) is the one reproduced — and a second run changes nothing.
/// Runs in the pass against the NativeAOT binary (tools/test.sh), the binary a release ships.
/// </summary>
[Trait("Category", "NativeBinary")]
public sealed class Debian11HostTests(ITestOutputHelper output)
{
    private static readonly string Root = ChrootHost.Root("bullseye");

    [SkippableFact]
    public void The_install_role_and_domain_xml_run_the_binary_on_a_debian_11_host()
    {
        Ansible.Require();
        Require.Available(Support.Cli.ExternalBinary is null ? "needs the NativeAOT binary (LIBVIRT_PCI_BINARY=out/native/libvirt-pci; tools/test.sh sets it)"
            : ChrootHost.Missing("bullseye"));
        using var dir = new TempDir();
        ChrootHost.Inventory(dir, "bullseye", "debian11");
        var work = $"/tmp/libvirt-pci-ansible-{Guid.NewGuid():N}";
        Directory.CreateDirectory(Root + work + "/bin"); // as /usr/local/bin is on a host
        var xml = new DomainGenerator(4242).Generate(new DomainGenerator.Options(Machine: "q35"));
        File.WriteAllText(Root + work + "/vm.xml", xml);
        var dest = work + "/bin/libvirt-pci";
        var binary = Support.Cli.ExternalBinary!;
        dir.File("play.yml", Encoding.UTF8.GetBytes($"""
            - hosts: debian11
              gather_facts: false
              roles:
                - role: libvirt_pci.fleet.install
                  libvirt_pci_src: {binary}
                  libvirt_pci_sha256: "{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(binary)))}"
                  libvirt_pci_dest: {dest}
              tasks:
                - name: Address the domain
                  libvirt_pci.fleet.domain_xml:
                    path: {work}/vm.xml
                    stable: true
                    binary: {dest}
            """));
        try
        {
            var first = Ansible.Playbook(dir.Path, "play.yml", "hosts");
            output.WriteLine(first.Stdout.Length > 4000 ? first.Stdout[..4000] : first.Stdout);
            Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
            Assert.True(File.Exists(Root + dest), "the role did not install the binary inside the Debian 11 root");
            Assert.Contains("libvirt-pci", first.Result("Check it is recent enough for the fleet modules", "debian11")["msg"]!.GetValue<string>());
            var result = first.Result("Address the domain", "debian11");
            Assert.True(result["changed"]!.GetValue<bool>());
            var file = result["files"]![0]!;
            Assert.Equal("7.0", file["libvirt"]!.GetValue<string>());
            Assert.Contains("libvirt.so.0.7000.0", file["libvirtFrom"]!.GetValue<string>());
            var addressed = File.ReadAllText(Root + work + "/vm.xml");
            Assert.Equal(Rewriter.Assign(SourceText.FromString("vm.xml", xml), new RewriteOptions { Libvirt = LibvirtProfile.For(new Version(7, 0)), Stable = true }).Text, addressed);

            var second = Ansible.Playbook(dir.Path, "play.yml", "hosts");
            Assert.True(second.ExitCode == 0, second.Stdout + second.Stderr);
            Assert.False(second.Result("Address the domain", "debian11")["changed"]!.GetValue<bool>());
            Assert.False(second.Result("Copy the binary to the host", "debian11")["changed"]!.GetValue<bool>());
            Assert.Equal(addressed, File.ReadAllText(Root + work + "/vm.xml"));
        }
        finally { Directory.Delete(Root + work, recursive: true); }
    }
}
