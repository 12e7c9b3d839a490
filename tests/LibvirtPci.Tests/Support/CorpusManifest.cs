using LibvirtPci.Addressing;

namespace LibvirtPci.Tests.Support;

/// <summary>One pair of ../shared/corpus/libvirt: libvirt's input, its stored output, and the QEMU capabilities it used.</summary>
public sealed record CorpusCase(string Name, string Machine, string CapsKind, QemuCapabilities Caps, string Features)
{
    public string InPath => Path.Combine(Paths.Corpus, Name + ".in.xml");
    public string OutPath => Path.Combine(Paths.Corpus, Name + ".out.xml");
    public override string ToString() => Name;
}

public static class CorpusManifest
{
    /// <summary>MANIFEST.tsv joined with CAPS.tsv (fake capability lists).</summary>
    public static IReadOnlyList<CorpusCase> Load()
    {
        var manifest = Path.Combine(Paths.Corpus, "MANIFEST.tsv");
        if (!File.Exists(manifest))
        {
            if (Paths.IsCi) throw new FileNotFoundException("CI=true but the corpus manifest is missing", manifest);
            return Array.Empty<CorpusCase>();
        }
        var fake = new Dictionary<string, string>();
        foreach (var line in File.ReadLines(Path.Combine(Paths.Corpus, "CAPS.tsv")).Skip(1))
        {
            var f = line.Split('\t');
            fake[f[0]] = f.Length > 3 ? f[3] : "";
        }
        var cases = new List<CorpusCase>();
        foreach (var line in File.ReadLines(manifest).Skip(1))
        {
            var f = line.Split('\t');
            var capsKind = f[8];
            var caps = capsKind == "fake"
                ? QemuCapabilities.FromLibvirtNames(fake.GetValueOrDefault(f[0], "").Split(',', StringSplitOptions.RemoveEmptyEntries))
                : QemuCapabilities.Latest;
            cases.Add(new CorpusCase(f[0], f[2], capsKind, caps, f[9]));
        }
        return cases;
    }
}
