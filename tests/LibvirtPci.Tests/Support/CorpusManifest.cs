using LibvirtPci.Addressing;

namespace LibvirtPci.Tests.Support;

/// <summary>One pair of a fetched libvirt corpus (tools/fetch-libvirt-corpus.sh): libvirt's input, its stored output, and the QEMU capabilities it used.</summary>
public sealed record CorpusCase(string Name, string Machine, string CapsKind, QemuCapabilities Caps, string Features)
{
    public string InPath => Path.Combine(Paths.Corpus, Name + ".in.xml");
    public string OutPath => Path.Combine(Paths.Corpus, Name + ".out.xml");
    public override string ToString() => Name;
}

public static class CorpusManifest
{
    /// <summary>libvirt 9.0's test program has 479 x86 pc/q35 pairs with PCI addresses; fewer means a truncated fetch.</summary>
    public const int MinimumCases = 479;

    /// <summary>MANIFEST.tsv joined with CAPS.tsv (fake capability lists); skips the calling test when the corpus is missing.</summary>
    public static IReadOnlyList<CorpusCase> Load()
    {
        Paths.RequireCorpus();
        var manifest = Path.Combine(Paths.Corpus, "MANIFEST.tsv");
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
            var caps = capsKind switch
            {
                "fake" => QemuCapabilities.FromLibvirtNames(fake.GetValueOrDefault(f[0], "").Split(',', StringSplitOptions.RemoveEmptyEntries)),
                "latest" => QemuCapabilities.Latest,
                _ when capsKind.StartsWith("ver:", StringComparison.Ordinal) => QemuCapabilities.ForQemuVersion(Version.Parse(capsKind[4..])),
                _ => throw new InvalidDataException($"{manifest}: case {f[0]} has an unknown capability kind '{capsKind}'"),
            };
            cases.Add(new CorpusCase(f[0], f[2], capsKind, caps, f[9]));
        }
        Assert.True(cases.Count >= MinimumCases, $"{manifest} lists {cases.Count} cases, libvirt 9.0 has {MinimumCases}: run tools/fetch-libvirt-corpus.sh --force {Paths.CorpusVersion}");
        return cases;
    }
}
