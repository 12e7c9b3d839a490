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
    /// <summary>tests/conformance-exclusions.tsv (9.0), tests/conformance-exclusions-11.3.tsv, ...: case → the reason, read in libvirt's source.</summary>
    private static Dictionary<string, string> Exclusions(string version = Paths.CorpusVersion) =>
        File.ReadLines(Path.Combine(Paths.RepoRoot, "tests", version == Paths.CorpusVersion ? "conformance-exclusions.tsv" : $"conformance-exclusions-{version[..^2]}.tsv"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");

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
        var diff = PciSnapshot.Of("expected", expected).Diff(PciSnapshot.Of("actual", plan.Text));
        return diff.Count == 0 ? null : string.Join("\n    ", diff.Take(12));
    }

    /// <summary>
    /// One score line per libvirt: 9.0 is the version the allocator reproduces; 11.3's corpus is
    /// measured against the same rules, its differences named in conformance-exclusions-11.3.tsv
    /// until version profiles exist (the versions issue).
    /// </summary>
    [SkippableTheory]
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
        var score = $"conformance {version[..^2]}: {pass}/{cases.Count} (caps=latest {latestPass}/{latest}; {excludedCount} excluded with reasons in tests/conformance-exclusions{(version == Paths.CorpusVersion ? "" : "-" + version[..^2])}.tsv)";
        output.WriteLine(score);
        Console.WriteLine(score);
        foreach (var f in failures) output.WriteLine(f);
        Assert.True(stale.Count == 0, "excluded cases now pass; remove them from conformance-exclusions.tsv: " + string.Join(", ", stale));
        Assert.True(failures.Count == 0, $"{score}\n{failures.Count} failing:\n" + string.Join("\n", failures.Take(40)));
    }

    [SkippableTheory]
    [MemberData(nameof(OutCases))]
    public void Libvirt_output_is_already_complete_and_comes_back_byte_identical(string file)
    {
        var c = CorpusManifest.Load().First(x => x.Name + ".out.xml" == file);
        var bytes = File.ReadAllBytes(c.OutPath);
        var plan = Rewriter.Assign(SourceText.FromBytes(file, bytes), new RewriteOptions { Caps = c.Caps });
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
            once = Rewriter.Assign(SourceText.FromBytes(file, File.ReadAllBytes(c.InPath)), new RewriteOptions { Caps = c.Caps });
        }
        catch (InputException e)
        {
            // A refusal is no proof of idempotence: only a case excluded with its reason may be refused.
            Skip.If(Exclusions().ContainsKey(c.Name), $"{c.Name} is excluded from conformance: {Exclusions()[c.Name]}");
            Assert.Fail($"{c.Name} was refused, so idempotence is not shown: {e}");
            return;
        }
        var twice = Rewriter.Assign(SourceText.FromString(file, once.Text), new RewriteOptions { Caps = c.Caps });
        if (twice.Changed) Assert.Fail(Support.TextDiff.Unified(once.Text, twice.Text));
    }

    /// <summary>libvirt 11.3's stored outputs come back unchanged under its profile (--libvirt-version 11.3); the excluded cases are the conformance test's to watch.</summary>
    [SkippableTheory]
    [MemberData(nameof(Libvirt113OutCases))]
    public void Libvirt_11_3_output_comes_back_byte_identical_under_its_profile(string file)
    {
        Paths.RequireCorpus("11.3.0");
        var bytes = File.ReadAllBytes(Path.Combine(Paths.CorpusOf("11.3.0"), file));
        var plan = Rewriter.Assign(SourceText.FromBytes(file, bytes), new RewriteOptions { Libvirt = LibvirtProfile.For(new Version(11, 3)) });
        if (plan.Changed) Assert.Fail(Support.TextDiff.Unified(System.Text.Encoding.UTF8.GetString(bytes), plan.Text));
        Assert.Equal(bytes, plan.Bytes);
    }

    public static IEnumerable<object[]> Libvirt113OutCases()
    {
        var excluded = Exclusions("11.3.0");
        var files = Paths.WhyNoCorpus("11.3.0") is null
            ? Directory.GetFiles(Paths.CorpusOf("11.3.0"), "*.out.xml").Select(Path.GetFileName).Where(f => !excluded.ContainsKey(f![..^".out.xml".Length]))
                .OrderBy(f => f, StringComparer.Ordinal).Select(f => new object[] { f! }).ToList()
            : [];
        return files.Count > 0 ? files : [[Paths.NotFetched]];
    }

    public static IEnumerable<object[]> OutCases() => Paths.CorpusCases("*.out.xml");
    public static IEnumerable<object[]> InCases() => Paths.CorpusCases("*.in.xml");
}
