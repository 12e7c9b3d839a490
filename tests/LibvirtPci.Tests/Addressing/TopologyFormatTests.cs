using LibvirtPci.Tools;
using System.Text.Json;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Support;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Addressing;

/// <summary>tree --format dot|svg|json: approved DOT for two fixtures, JSON a machine can walk, and Graphviz draws every corpus output.</summary>
[Trait("Category", "Cli")]
public sealed class TopologyFormatTests
{
    /// <summary>The shipped q35 example as assign writes it, and the converted pc Windows fixture.</summary>
    public static IEnumerable<object[]> Pictures() => [["q35-web"], ["pc-windows-q35"]];

    private static string Domain(string name, TempDir dir) => name == "q35-web"
        ? dir.File("q35-web.xml", Rewriter.Assign(SourceText.FromBytes("q35-web.xml", File.ReadAllBytes(Path.Combine(Paths.Fixtures, "examples", "q35-web.xml"))), ToolTarget.Options).Bytes)
        : dir.File("pc-windows-q35.xml", File.ReadAllBytes(Path.Combine(Paths.Fixtures, "convert", "pc-windows.q35.approved.xml")));

    [Theory]
    [MemberData(nameof(Pictures))]
    public void Dot_matches_its_approved_snapshot(string name)
    {
        using var dir = new TempDir();
        var r = Support.Cli.Run("tree", "--format", "dot", Domain(name, dir));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Approvals.Verify(Path.Combine(Paths.Fixtures, "tree", name + ".approved.dot"), r.StdoutBytes);
    }

    [Fact]
    public void Json_walks_buses_devices_guest_addresses_and_nic_names()
    {
        using var dir = new TempDir();
        var r = Support.Cli.Run("tree", "--json", "--libvirt-version", "9.0", Domain("q35-web", dir));
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement.GetProperty("root");
        Assert.Equal("pcie-root", root.GetProperty("model").GetString());
        Assert.Equal("9.0", doc.RootElement.GetProperty("libvirt").GetString());
        IEnumerable<JsonElement> All(JsonElement bus) => bus.GetProperty("devices").EnumerateArray().Concat(bus.GetProperty("buses").EnumerateArray().SelectMany(All));
        var nic = All(root).Single(d => d.GetProperty("key").GetString() == "interface/52:54:00:12:34:02");
        Assert.Equal("02:01.0", nic.GetProperty("guest").GetString());
        Assert.Equal("enp2s1", nic.GetProperty("linuxName").GetString());
        Assert.Contains(root.GetProperty("buses").EnumerateArray(), b => b.TryGetProperty("emptyHotplugPort", out var e) && e.GetBoolean());
        Assert.Equal(14, doc.RootElement.GetProperty("io").GetProperty("windowsAvailable").GetInt32());
    }
}

/// <summary>Graphviz draws the DOT of every corpus output (7.0, 9.0, 11.3), in parallel.</summary>
[Trait("Category", "Integration")]
public sealed class TopologyCorpusTests
{
    [SkippableFact]
    public void Dot_draws_every_corpus_output_as_svg()
    {
        Require.Available(File.Exists("/usr/bin/dot") ? null : "Graphviz is not installed (apt-get install graphviz)");
        var files = new[] { "7.0.0", "9.0.0", "11.3.0" }.SelectMany(v => { Paths.RequireCorpus(v); return Directory.GetFiles(Paths.CorpusOf(v), "*.out.xml"); }).ToList();
        Assert.True(files.Count >= 1667, $"{files.Count} corpus outputs");
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, f =>
        {
            var domain = global::LibvirtPci.Domain.DomainDefinition.Parse(SourceText.FromBytes(f, File.ReadAllBytes(f)));
            var dot = global::LibvirtPci.Rendering.TopologyFormats.ToDot(Path.GetFileName(f), domain, global::LibvirtPci.Addressing.Topology.Build(domain), global::LibvirtPci.Limits.IoSpaceBudget.Analyze(domain, global::LibvirtPci.Tools.ToolTarget.Debian12Firmware));
            var psi = new System.Diagnostics.ProcessStartInfo("dot") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-Tsvg");
            using var p = System.Diagnostics.Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEndAsync();
            var error = p.StandardError.ReadToEndAsync();
            p.StandardInput.Write(dot);
            p.StandardInput.Close();
            p.WaitForExit();
            if (p.ExitCode != 0 || !output.Result.Contains("</svg>", StringComparison.Ordinal)) failures.Add($"{Path.GetFileName(f)}: {error.Result.Trim()}");
        });
        Assert.True(failures.IsEmpty, $"{failures.Count} of {files.Count} failed:\n" + string.Join("\n", failures.Take(10)));
    }
}
