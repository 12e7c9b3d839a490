using LibvirtPci.Tools;
using LibvirtPci.Addressing;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Support;
using LibvirtPci.Xml;
using Xunit.Abstractions;

namespace LibvirtPci.Tests.Addressing;

/// <summary>
/// The allocator against libvirt's own test corpus: for every pc/q35 case, assigning
/// CASE.in.xml must give every device (matched by identity) the address libvirt stored in
/// CASE.out.xml, and the same PCI controllers. Cases we knowingly do not reproduce are listed,
/// with the reason, in conformance-exclusions.tsv; an excluded case that starts passing fails
/// the test so the list never goes stale.
/// </summary>
public sealed class ConformanceTests(ITestOutputHelper output)
{
    /// <summary>tests/conformance-exclusions.tsv: for one libvirt version, case → the reason, read in libvirt's source.</summary>
    private static Dictionary<string, string> Exclusions(string version) =>
        File.ReadLines(Path.Combine(Paths.RepoRoot, "tests", "conformance-exclusions.tsv"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t', 3))
            .Where(p => p[0] == version[..^2])
            .ToDictionary(p => p[1], p => p.Length > 2 ? p[2] : "");

    public static string? Check(CorpusCase c)
    {
        var input = File.ReadAllBytes(c.InPath);
        var expected = File.ReadAllText(c.OutPath);
        RewritePlan plan;
        try
        {
            plan = Rewriter.Assign(SourceText.FromBytes(c.Name + ".in.xml", input), new RewriteOptions { Caps = c.Caps, Libvirt = LibvirtProfile.For(Version.Parse(c.Version)) });
        }
        catch (InputException e)
        {
            return "refused: " + e.Message;
        }
        // libvirt defined this input, so nothing in it may stop the CLI from writing (exit 4)
        if (plan.Findings.FirstOrDefault(f => f.Severity == Severity.Error) is { } error)
            return "an error finding for a domain libvirt accepts: " + error.Format(c.Name + ".in.xml");
        var diff = PciSnapshot.Of("expected", expected).Diff(PciSnapshot.Of("actual", plan.Text));
        return diff.Count == 0 ? null : string.Join("\n    ", diff.Take(12));
    }

    /// <summary>
    /// One score line per libvirt (Debian 11, 12, 13), each corpus under its own version's profile
    /// and with the QEMU capabilities libvirt's test gave that case.
    /// </summary>
    [SkippableTheory]
    [InlineData("7.0.0")]
    [InlineData("9.0.0")]
    [InlineData("11.3.0")]
    public void Every_pc_and_q35_case_gets_libvirts_addresses(string version)
    {
        var cases = CorpusManifest.Load(version).Where(c => c.Machine is "pc" or "q35").ToList();
        var excluded = Exclusions(version);
        int pass = 0, excludedCount = 0;
        var failures = new List<string>();
        var stale = new List<string>();
        foreach (var c in cases)
        {
            var problem = Check(c);
            bool isExcluded = excluded.ContainsKey(c.Name);
            if (problem is null)
            {
                pass++;
                if (isExcluded) stale.Add(c.Name);
            }
            else if (isExcluded) excludedCount++;
            else failures.Add($"{c.Name} [{c.Machine}, caps={c.CapsKind}]\n    {problem}");
        }
        int latest = cases.Count(c => c.CapsKind == "latest");
        int latestPass = cases.Count(c => c.CapsKind == "latest" && !excluded.ContainsKey(c.Name) && !failures.Any(f => f.StartsWith(c.Name + " ", StringComparison.Ordinal)));
        var score = $"conformance {version[..^2]}: {pass}/{cases.Count} (caps=latest {latestPass}/{latest}; {excludedCount} excluded with reasons in tests/conformance-exclusions.tsv)";
        output.WriteLine(score);
        Console.WriteLine(score);
        foreach (var f in failures) output.WriteLine(f);
        Assert.True(stale.Count == 0, "excluded cases now pass; remove them from conformance-exclusions.tsv: " + string.Join(", ", stale));
        Assert.True(failures.Count == 0, $"{score}\n{failures.Count} failing:\n" + string.Join("\n", failures.Take(40)));
    }

    /// <summary>libvirt's stored outputs are complete: under the profile of the libvirt that wrote them, nothing is added or moved, byte for byte.</summary>
    [SkippableTheory]
    [MemberData(nameof(OutCases))]
    public void Libvirt_output_is_already_complete_and_comes_back_byte_identical(string version, string file)
    {
        Paths.RequireCorpus(version);
        var c = CorpusManifest.Load(version).First(x => x.Name + ".out.xml" == file);
        var bytes = File.ReadAllBytes(c.OutPath);
        var plan = Rewriter.Assign(SourceText.FromBytes(file, bytes), new RewriteOptions { Caps = c.Caps, Libvirt = LibvirtProfile.For(Version.Parse(version)) });
        if (plan.Changed)
            Assert.Fail(Support.TextDiff.Unified(System.Text.Encoding.UTF8.GetString(bytes), plan.Text));
        Assert.Equal(bytes, plan.Bytes);
    }

    [SkippableTheory]
    [MemberData(nameof(InCases))]
    public void Assign_is_idempotent(string file)
    {
        var c = CorpusManifest.Load().First(x => x.Name + ".in.xml" == file);
        RewritePlan once;
        try
        {
            once = Rewriter.Assign(SourceText.FromBytes(file, File.ReadAllBytes(c.InPath)), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, Caps = c.Caps });
        }
        catch (InputException e)
        {
            // A refusal is no proof of idempotence: only a case excluded with its reason may be refused.
            Skip.If(Exclusions(Paths.CorpusVersion).ContainsKey(c.Name), $"{c.Name} is excluded from conformance: {Exclusions(Paths.CorpusVersion)[c.Name]}");
            Assert.Fail($"{c.Name} was refused, so idempotence is not shown: {e}");
            return;
        }
        var twice = Rewriter.Assign(SourceText.FromString(file, once.Text), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, Caps = c.Caps });
        if (twice.Changed) Assert.Fail(Support.TextDiff.Unified(once.Text, twice.Text));
    }

    public static IEnumerable<object[]> OutCases() =>
        CorpusVersions.SelectMany(v => Paths.WhyNoCorpus(v) is null
            ? Directory.GetFiles(Paths.CorpusOf(v), "*.out.xml").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).Select(f => new object[] { v, f })
            : [[v, Paths.NotFetched]]);

    /// <summary>The libvirt releases whose test corpora tools/test.sh fetches (Debian 11, 12, 13).</summary>
    private static readonly string[] CorpusVersions = ["7.0.0", "9.0.0", "11.3.0"];
    public static IEnumerable<object[]> InCases() => Paths.CorpusCases("*.in.xml");
}
