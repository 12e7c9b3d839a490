using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Reliability;

/// <summary>
/// Faults are messages with a code, never stack traces, and one bad folder never stops the files
/// beside it. Run as root without capabilities (setpriv drops them, so permission bits apply as
/// they do to any user), through the real binary.
/// </summary>
[Trait("Category", "Cli")]
public sealed class FaultTests
{
    private static string Binary => Support.Cli.ExternalBinary ?? Path.Combine(AppContext.BaseDirectory, "libvirt-pci");

    private static Proc.Result AsUnprivileged(params string[] args) =>
        Proc.Run("setpriv", ["--bounding-set=-all", "--inh-caps=-all", Binary, .. args]);

    [SkippableFact]
    public void An_unreadable_folder_is_reported_and_the_readable_files_beside_it_are_still_checked()
    {
        Support.Require.Available(File.Exists("/usr/bin/setpriv") && Environment.UserName == "root" ? null : "needs root and setpriv (util-linux) to drop capabilities");
        using var dir = new TempDir();
        var open = dir.CopyFixture("examples/q35-web.xml", "vms/open/a.xml");
        dir.CopyFixture("examples/q35-web.xml", "vms/locked/b.xml");
        var locked = Path.Combine(dir.Path, "vms", "locked");
        var unreadable = dir.CopyFixture("examples/q35-web.xml", "vms/unreadable.xml");
        File.SetUnixFileMode(locked, UnixFileMode.None);
        File.SetUnixFileMode(unreadable, UnixFileMode.None);
        try
        {
            foreach (var command in new[] { new[] { "--check" }, ["lint"] })
            {
                var r = AsUnprivileged([.. command, Path.Combine(dir.Path, "vms")]);
                Assert.Equal(2, r.Code);
                Assert.DoesNotContain("Unhandled exception", r.Err);
                Assert.DoesNotContain("   at ", r.Err);
                Assert.Contains($"{locked}: error LP102: permission denied: the folder cannot be listed", r.Err);
                Assert.Contains($"{unreadable}: error LP102: permission denied", r.Err);
                if (command[0] == "--check") Assert.Contains($"{open}: would assign", r.Err); // the readable one was checked
            }
            var top = AsUnprivileged("--check", locked);
            Assert.Equal(2, top.Code);
            Assert.Contains("error LP102", top.Err);
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [SkippableFact]
    public void An_in_place_write_keeps_a_private_file_private()
    {
        Support.Require.Available(OperatingSystem.IsLinux() ? null : "Unix file modes");
        using var dir = new TempDir();
        var vm = dir.CopyFixture("examples/q35-web.xml", "vm.xml");
        File.SetUnixFileMode(vm, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var r = Support.Cli.Run("-i", vm);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(vm));
        Assert.Contains("<address type='pci'", File.ReadAllText(vm));
    }

    /// <summary>
    /// A virsh that never answers (a daemon that hangs) is stopped after --virsh-timeout: the
    /// domain fails with its code and the command in the message, the run ends, no stack trace.
    /// </summary>
    [Fact]
    public void A_hanging_virsh_is_stopped_and_reported_with_its_command()
    {
        using var dir = new TempDir();
        var virsh = dir.File("virsh", System.Text.Encoding.UTF8.GetBytes("""
            #!/bin/sh
            # a virsh whose daemon answers list and version, then hangs on dumpxml (or on everything with HANG=all)
            while [ "$1" = -c ] || [ "$1" = -q ]; do [ "$1" = -c ] && shift; shift; done
            [ "${HANG:-}" = all ] && exec sleep 600
            case "$1" in
              list) echo vm1 ;;
              version) echo "Running against daemon: 9.0.0" ;;
              *) exec sleep 600 ;;
            esac

            """));
        File.SetUnixFileMode(virsh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var r = Proc.Run(Binary, ["migrate", "--all", "--virsh", virsh, "--virsh-timeout", "1", "--backup-dir", Path.Combine(dir.Path, "b")]);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"took {started.Elapsed}");
        Assert.NotEqual(0, r.Code);
        Assert.DoesNotContain("Unhandled exception", r.Err);
        Assert.Contains("error LP131: virsh dumpxml failed: `" + virsh + " -q dumpxml --inactive vm1` did not finish in 1 s and was stopped", r.Err);

        var all = Proc.Run(Binary, ["migrate", "--all", "--virsh", virsh, "--virsh-timeout", "1"], dir.Path, new Dictionary<string, string?> { ["HANG"] = "all" });
        Assert.Equal(3, all.Code);
        Assert.Contains("error LP130: virsh list failed: `" + virsh + " -q list --all --name` did not finish in 1 s and was stopped", all.Err);

        var bad = Proc.Run(Binary, ["migrate", "--all", "--virsh-timeout", "soon"]);
        Assert.Equal(2, bad.Code);
        Assert.Contains("error LP001: --virsh-timeout takes seconds from 1 to 86400, not 'soon'", bad.Err);
    }

    /// <summary>
    /// What no code foresees (a bug, an I/O failure the file layer did not name) is a message for
    /// that file — LP190 or LP105, exit 3 — and the other files of the batch are still done; no
    /// stack trace. Injected through LIBVIRT_PCI_INJECT_FAULT into the real binary.
    /// </summary>
    [Theory]
    [InlineData("internal", "LP190", "internal error (InvalidOperationException: injected)")]
    [InlineData("io", "LP105", "No space left on device")]
    public void An_unforeseen_fault_fails_its_file_alone_with_a_message(string mode, string code, string message)
    {
        using var dir = new TempDir();
        var good = dir.CopyFixture("examples/q35-web.xml", "vms/a.xml");
        var bad = dir.CopyFixture("examples/q35-web.xml", "vms/inject-fault.xml");
        var env = new Dictionary<string, string?> { ["LIBVIRT_PCI_INJECT_FAULT"] = mode };
        var r = Proc.Run(Binary, ["--check", Path.Combine(dir.Path, "vms")], dir.Path, env);
        Assert.Equal(3, r.Code);
        Assert.DoesNotContain("Unhandled exception", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.Contains($"{bad}: error {code}: {message}", r.Err);
        Assert.Contains($"{good}: would assign", r.Err);
        Assert.Contains("libvirt-pci: 1 checked, 1 to change, 1 failed, 0 skipped", r.Err);
    }

    /// <summary>
    /// lint and convert walk a batch as assign does (one runner): directories, a file that is not
    /// domain XML skipped, a fault that fails its file alone, the summary line, the worst exit code.
    /// </summary>
    [Theory]
    [InlineData("lint", "0 with errors")]
    [InlineData("convert --to q35 --check", "1 to convert")]
    public void Lint_and_convert_walk_a_batch_as_assign_does(string command, string changes)
    {
        using var dir = new TempDir();
        var good = dir.CopyFixture("convert/pc-linux.xml", "vms/a.xml");
        var bad = dir.CopyFixture("convert/pc-linux.xml", "vms/more/inject-fault.xml");
        File.WriteAllText(Path.Combine(dir.Path, "vms", "notes.xml"), "<notes/>\n");
        var env = new Dictionary<string, string?> { ["LIBVIRT_PCI_INJECT_FAULT"] = "internal" };
        var r = Proc.Run(Binary, [.. command.Split(' '), Path.Combine(dir.Path, "vms")], dir.Path, env);
        Assert.Equal(3, r.Code);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.Contains($"{bad}: error LP190: internal error (InvalidOperationException: injected)", r.Err);
        Assert.DoesNotContain("notes.xml", r.Err + r.Out);
        Assert.Contains($"libvirt-pci: 1 checked, {changes}, 1 failed, 1 skipped (not domain XML)", r.Err);
        Assert.Equal(File.ReadAllText(Path.Combine(Paths.Fixtures, "convert/pc-linux.xml")), File.ReadAllText(good)); // --check, lint: nothing written
    }
}
