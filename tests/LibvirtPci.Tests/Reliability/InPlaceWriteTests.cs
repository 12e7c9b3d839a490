using System.Diagnostics;
using System.Text;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Support;
using LibvirtPci.Tools;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Reliability;

/// <summary>Crash-safe, race-safe in-place writes, and bounded work on hostile inputs.</summary>
public sealed class InPlaceWriteTests
{
    private static string Binary => Support.Cli.ExternalBinary ?? Path.Combine(AppContext.BaseDirectory, "libvirt-pci");

    private static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    [Fact]
    public void Sigkill_at_random_moments_leaves_the_old_or_the_new_file_never_a_partial_one()
    {
        using var dir = new TempDir();
        var old = Encoding.UTF8.GetBytes(DomainGenerator.Big(3000, "pc"));
        var expected = Rewriter.Assign(SourceText.FromBytes("big.xml", old), ToolTarget.Options).Bytes;
        var path = dir.File("big.xml", old);
        // How long one uninterrupted run takes on this machine, so the kills spread over all of it.
        var timer = Stopwatch.StartNew();
        using (var probe = Start("-i", path)) probe.WaitForExit();
        int span = (int)Math.Max(20, timer.ElapsedMilliseconds * 1.3);
        var rng = new Random(7);
        int sawOld = 0, sawNew = 0;
        for (int i = 0; i < 40; i++)
        {
            File.WriteAllBytes(path, old);
            using var p = Start("-i", path);
            Thread.Sleep(rng.Next(0, span));
            try { p.Kill(); } catch (InvalidOperationException) { } // already done
            p.WaitForExit();
            var now = File.ReadAllBytes(path);
            if (now.AsSpan().SequenceEqual(old)) sawOld++;
            else if (now.AsSpan().SequenceEqual(expected)) sawNew++;
            else Assert.Fail($"run {i}: the file is neither the old nor the new content ({now.Length} bytes)");
        }
        Assert.True(sawOld > 0 && sawNew > 0, $"the kills should land both before and after the rename (old {sawOld}, new {sawNew})");
        // A killed run may leave its temporary file; the next run removes it.
        File.WriteAllBytes(path, old);
        using (var last = Start("-i", path)) last.WaitForExit();
        Assert.Equal(new[] { path }, Directory.GetFiles(dir.Path));
    }

    [Fact]
    public async Task Two_writers_at_once_lose_no_update()
    {
        using var dir = new TempDir();
        var v0 = Encoding.UTF8.GetBytes(DomainGenerator.Big(1500, "q35").Replace("<controller type='pci' model='pcie-root-port'/>", "<controller type='pci' model='pcie-root-port'/>\n    <controller type='pci' model='pcie-root-port'/>", StringComparison.Ordinal));
        var path = dir.File("vm.xml", v0);
        string S(byte[] b) => Encoding.UTF8.GetString(b);
        for (int i = 0; i < 12; i++)
        {
            File.WriteAllBytes(path, v0);
            using var a = Start("-i", "--force", "--stable", path); // the big domain would not boot (LP601): forced, this test is about two writers
            using var b = Start("-i", "--force", "--io-reserve", "off", path);
            var errA = await a.StandardError.ReadToEndAsync();
            var errB = await b.StandardError.ReadToEndAsync();
            await a.WaitForExitAsync();
            await b.WaitForExitAsync();
            var final = S(File.ReadAllBytes(path));
            bool hasLedger = final.Contains("urn:libvirt-pci:ledger:1", StringComparison.Ordinal);
            bool hasIoReserve = final.Contains("pcie-root-port.io-reserve=0", StringComparison.Ordinal);
            // Each writer either landed its change or refused with LP104: never silently lost.
            if (!hasLedger) Assert.True(a.ExitCode == 2 && errA.Contains("LP104", StringComparison.Ordinal), $"round {i}: --stable's update was lost (exit {a.ExitCode}: {errA})");
            if (!hasIoReserve) Assert.True(b.ExitCode == 2 && errB.Contains("LP104", StringComparison.Ordinal), $"round {i}: --io-reserve's update was lost (exit {b.ExitCode}: {errB})");
            Assert.False(Rewriter.Assign(SourceText.FromString("vm.xml", final), ToolTarget.Options).Changed, $"round {i}: the result is not complete");
        }
    }

    [Fact]
    public void Stale_temporary_files_of_dead_runs_are_removed_and_others_left_alone()
    {
        using var dir = new TempDir();
        var path = dir.CopyFixture("examples/q35-web.xml", "vm.xml");
        var stale = dir.File(".vm.xml.libvirt-pci-999999-deadbeef.tmp", "partial"u8.ToArray());
        var alive = dir.File($".vm.xml.libvirt-pci-{Environment.ProcessId}-cafecafe.tmp", "in use"u8.ToArray());
        var foreign = dir.File(".vm.xml.swp", "editor"u8.ToArray());
        Assert.Equal(0, Support.Cli.Run("-i", path).ExitCode);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(alive));
        Assert.True(File.Exists(foreign));
    }

    [Fact]
    public void A_symlink_is_written_through_to_its_target()
    {
        using var dir = new TempDir();
        var target = dir.CopyFixture("examples/q35-web.xml", "real/vm.xml");
        var link = Path.Combine(dir.Path, "vm.xml");
        File.CreateSymbolicLink(link, target);
        var r = Support.Cli.Run("-i", link);
        Assert.Equal(0, r.ExitCode);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Contains("pcie-root-port", File.ReadAllText(target));
    }

    [Fact]
    public void Hostile_sizes_get_a_clear_error_in_bounded_time()
    {
        using var dir = new TempDir();
        // Nesting far deeper than any domain.
        var deep = dir.File("deep.xml", Encoding.UTF8.GetBytes("<domain>" + string.Concat(Enumerable.Repeat("<a>", 5000)) + string.Concat(Enumerable.Repeat("</a>", 5000)) + "</domain>"));
        var r1 = Support.Cli.Run(deep);
        Assert.Equal(2, r1.ExitCode);
        Assert.Contains("LP205", r1.Stderr);
        // Far more devices than 256 PCI buses can hold.
        var many = dir.File("many.xml", Encoding.UTF8.GetBytes("<domain type='kvm'><name>x</name><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
            + string.Concat(Enumerable.Range(0, 40000).Select(i => $"<interface type='user'><mac address='52:54:{i >> 16 & 0xff:x2}:{i >> 8 & 0xff:x2}:{i & 0xff:x2}:01'/><model type='e1000'/></interface>")) + "</devices></domain>"));
        var r2 = Support.Cli.Run(many);
        Assert.Equal(2, r2.ExitCode);
        Assert.Contains("LP224", r2.Stderr);
        // A 4 MiB attribute value is just data.
        var huge = dir.File("huge.xml", Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(Paths.Fixtures, "examples", "q35-web.xml")).Replace("<name>q35-web</name>", $"<name>q35-web</name><description x='{new string('y', 4 << 20)}'/>", StringComparison.Ordinal)));
        Assert.InRange(Support.Cli.Run("--check", huge).ExitCode, 0, 1);
        // 50,000 namespace declarations and 50,000 qualified attributes on one element: lookups stay constant-time.
        var names = dir.File("names.xml", Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(Paths.Fixtures, "examples", "q35-web.xml")).Replace("<name>q35-web</name>",
            "<name>q35-web</name><metadata><m " + string.Concat(Enumerable.Range(0, 50000).Select(i => $"xmlns:p{i}='urn:x:{i}' p{i}:a='{i}' ")) + "/></metadata>", StringComparison.Ordinal)));
        Assert.InRange(Support.Cli.Run("--check", names).ExitCode, 0, 1);
        // Past 64 MiB the file is refused before it is read.
        var big = Path.Combine(dir.Path, "big.xml");
        using (var fs = File.Create(big)) fs.SetLength(65L << 20);
        var r3 = Support.Cli.Run(big);
        Assert.Equal(2, r3.ExitCode);
        Assert.Contains("LP103", r3.Stderr);
    }
}

/// <summary>LP105 names the user's file (never our temporary one) and the real cause.</summary>
[Trait("Category", "Cli")]
public sealed class WriteFailureTests
{
    private static string Tool => Support.Cli.ExternalBinary ?? Path.Combine(AppContext.BaseDirectory, "libvirt-pci");

    private static void RequireRoot() => Require.Available(Environment.UserName == "root" && File.Exists("/usr/bin/chattr") ? null : "needs root and chattr (e2fsprogs) to make a file immutable or a mount read-only");

    [SkippableFact]
    public void An_immutable_file_is_named_with_the_cause()
    {
        RequireRoot();
        using var dir = new TempDir();
        var path = dir.CopyFixture("examples/q35-web.xml", "vm.xml");
        Assert.Equal(0, Proc.Run("chattr", ["+i", path]).Code);
        try
        {
            var r = Proc.Run(Tool, ["-i", path]);
            Assert.Equal(2, r.Code);
            Assert.StartsWith($"{path}: error LP105: cannot write: ", r.Err);
            Assert.Contains("immutable", r.Err);
            Assert.DoesNotContain(".tmp", r.Err);
        }
        finally
        {
            Proc.Run("chattr", ["-i", path]);
        }
    }

    [SkippableFact]
    public void A_read_only_file_system_is_named_with_the_cause()
    {
        RequireRoot();
        using var dir = new TempDir();
        var source = dir.CopyFixture("examples/q35-web.xml", "vm.xml");
        // A private mount namespace: a read-only tmpfs that nobody else sees, gone with the process.
        var r = Proc.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            "mkdir -p \"$1\" && mount -t tmpfs tmpfs \"$1\" && cp \"$2\" \"$1/vm.xml\" && mount -o remount,ro \"$1\" && exec \"$3\" -i \"$1/vm.xml\"", "sh", Path.Combine(dir.Path, "mnt"), source, Tool], env: null,
            workDir: null);
        Assert.Equal(2, r.Code);
        Assert.Equal($"{Path.Combine(dir.Path, "mnt", "vm.xml")}: error LP105: cannot write: the file system is read-only\n", r.Err);
    }
}
