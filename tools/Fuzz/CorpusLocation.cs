namespace LibvirtPci.Tools;

/// <summary>
/// Where tools/fetch-libvirt-corpus.sh caches libvirt VERSION's test pairs: outside the repository
/// (nothing of libvirt's is committed). Shared by the fuzzer and the tests.
/// </summary>
public static class CorpusLocation
{
    public static string Of(string version)
    {
        var root = Environment.GetEnvironmentVariable("LIBVIRT_PCI_CORPUS_DIR") is { Length: > 0 } dir ? dir
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? cache
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "libvirt-pci", "corpus");
        return Path.Combine(root, version);
    }
}
