namespace LibvirtPci.Tests.Support;

/// <summary>Where the repository, its fixtures and ../shared are, seen from the test binaries.</summary>
public static class Paths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Fixtures => Path.Combine(RepoRoot, "fixtures");
    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
    public static string Corpus => Path.Combine(Shared, "corpus", "libvirt");
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LibvirtPci.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("LibvirtPci.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// The corpus files, or an empty list when ../shared is absent on a developer machine.
    /// Under CI=true a missing corpus fails the run instead of silently testing nothing.
    /// </summary>
    public static IEnumerable<string> CorpusFiles(string pattern)
    {
        if (!Directory.Exists(Corpus))
        {
            if (IsCi) throw new DirectoryNotFoundException($"CI=true but the libvirt corpus is missing at {Corpus}");
            return Array.Empty<string>();
        }
        return Directory.GetFiles(Corpus, pattern).OrderBy(f => f, StringComparer.Ordinal);
    }

    public static IEnumerable<object[]> CorpusCases(string pattern) =>
        CorpusFiles(pattern).Select(f => new object[] { Path.GetFileName(f) });
}
