using LibvirtPci.Addressing;

namespace LibvirtPci.Tests.Support;

/// <summary>One pair of a fetched libvirt corpus (tools/fetch-libvirt-corpus.sh): libvirt's input, its stored output, and the QEMU capabilities it used.</summary>
public sealed record CorpusCase(string Version, string Name, string Machine, string CapsKind, QemuCapabilities Caps, string Features)
{
    public string InPath => Path.Combine(Paths.CorpusOf(Version), Name + ".in.xml");
    public string OutPath => Path.Combine(Paths.CorpusOf(Version), Name + ".out.xml");
    public override string ToString() => Name;
}

public static class CorpusManifest
{
    /// <summary>How many x86 pc/q35 pairs with PCI addresses each libvirt's test program has; fewer means a truncated fetch.</summary>
    public static readonly IReadOnlyDictionary<string, int> MinimumCases = new Dictionary<string, int> { ["7.0.0"] = 410, ["9.0.0"] = 479, ["11.3.0"] = 778 };

    /// <summary>MANIFEST.tsv joined with CAPS.tsv (fake capability lists); skips the calling test when the corpus is missing.</summary>
    public static IReadOnlyList<CorpusCase> Load(string version = Paths.CorpusVersion)
    {
        Paths.RequireCorpus(version);
        var corpus = Paths.CorpusOf(version);
        var manifest = Path.Combine(corpus, "MANIFEST.tsv");
        var fake = new Dictionary<string, string>();
        var deleted = new Dictionary<string, QemuCapabilities>(); // ARG_QEMU_CAPS_DEL=QEMU_CAPS_A|QEMU_CAPS_B|QEMU_CAPS_LAST
        foreach (var line in File.ReadLines(Path.Combine(corpus, "CAPS.tsv")).Skip(1))
        {
            var f = line.Split('\t');
            fake[f[0]] = f.Length > 3 ? f[3] : "";
            if (f.Length > 4 && f[4].Split(' ').FirstOrDefault(a => a.StartsWith("ARG_QEMU_CAPS_DEL=", StringComparison.Ordinal)) is { } del)
                deleted[f[0]] = QemuCapabilities.FromLibvirtNames(del["ARG_QEMU_CAPS_DEL=".Length..].Split('|'));
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
            if (deleted.TryGetValue(f[0], out var less)) caps = caps.Without(less);
            cases.Add(new CorpusCase(version, f[0], f[2], capsKind, caps, f[9]));
        }
        Assert.True(cases.Count >= MinimumCases[version], $"{manifest} lists {cases.Count} cases, libvirt {version}'s tests have {MinimumCases[version]}: run tools/fetch-libvirt-corpus.sh --force {version}");
        return cases;
    }
}
