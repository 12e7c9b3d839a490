namespace LibvirtPci.Tests.Support;

/// <summary>Where the repository, its fixtures and the fetched libvirt corpora are, seen from the test binaries.</summary>
public static class Paths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Fixtures => Path.Combine(RepoRoot, "fixtures");
    public static string Tools => Path.Combine(RepoRoot, "tools");

    /// <summary>The libvirt whose test corpus the conformance tests read by default (Debian 12's).</summary>
    public const string CorpusVersion = "9.0.0";

    /// <summary>
    /// Where tools/fetch-libvirt-corpus.sh puts libvirt VERSION's test pairs: a cache outside the
    /// repository (nothing of libvirt's is committed).
    /// </summary>
    public static string CorpusOf(string version) => global::LibvirtPci.Tools.CorpusLocation.Of(version);

    public static string Corpus => CorpusOf(CorpusVersion);

    /// <summary>
    /// CI is any non-empty CI other than false/0 (GitHub, GitLab and most runners set CI=true; some
    /// set CI=1). Under CI a test whose real parts are missing fails instead of skipping.
    /// </summary>
    public static bool IsCi => Environment.GetEnvironmentVariable("CI") is { Length: > 0 } ci
        && !ci.Equals("false", StringComparison.OrdinalIgnoreCase) && ci != "0";

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LibvirtPci.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("LibvirtPci.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Why libvirt VERSION's corpus cannot be read, or null when it is there.</summary>
    public static string? WhyNoCorpus(string version = CorpusVersion) =>
        File.Exists(Path.Combine(CorpusOf(version), "MANIFEST.tsv")) ? null
            : $"corpus not fetched (run tools/fetch-libvirt-corpus.sh {version}; looked in {CorpusOf(version)})";

    /// <summary>Skips the calling test (fails it under CI) when the corpus is missing.</summary>
    public static void RequireCorpus(string version = CorpusVersion) => Require.Available(WhyNoCorpus(version));

    /// <summary>The corpus files; empty when the corpus is missing (tests then skip through <see cref="CorpusCases"/>).</summary>
    public static IEnumerable<string> CorpusFiles(string pattern) =>
        WhyNoCorpus() is null ? Directory.GetFiles(Corpus, pattern).OrderBy(f => f, StringComparer.Ordinal) : [];

    /// <summary>
    /// Theory data over the corpus files. A missing corpus gives one row, <see cref="NotFetched"/>, whose
    /// test skips with the fetch command (xunit would otherwise fail it with "No data found").
    /// </summary>
    public static IEnumerable<object[]> CorpusCases(string pattern)
    {
        var files = CorpusFiles(pattern).Select(f => new object[] { Path.GetFileName(f) }).ToList();
        return files.Count > 0 ? files : [[NotFetched]];
    }

    public const string NotFetched = "(corpus not fetched)";
}

/// <summary>Dynamic skips (Xunit.SkippableFact): a test whose real parts are missing is reported Skipped, never Passed; under CI it fails.</summary>
public static class Require
{
    public static void Available(string? whyNot)
    {
        if (whyNot is null) return;
        if (Paths.IsCi) Assert.Fail("CI is set but this test cannot run: " + whyNot);
        Skip.If(true, "skipped: " + whyNot);
    }
}
