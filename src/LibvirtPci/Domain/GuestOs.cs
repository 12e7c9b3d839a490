namespace LibvirtPci.Domain;

/// <summary>
/// The guest operating system as far as the domain says: virt-install, virt-manager and
/// GNOME Boxes record it as &lt;libosinfo:os id='http://microsoft.com/win/10'/&gt; in the
/// domain's &lt;metadata&gt;. Without that, nothing OS-specific is said.
/// </summary>
public static class GuestOs
{
    public const string LibosinfoNamespace = "http://libosinfo.org/xmlns/libvirt/domain/1.0";

    /// <summary>The libosinfo OS id, or null when the domain does not record one.</summary>
    public static string? Id(DomainDefinition domain)
    {
        foreach (var metadata in domain.Root.Elements("metadata"))
            foreach (var info in metadata.Children)
                if (info.NamespaceUri == LibosinfoNamespace && info.LocalName == "libosinfo")
                    foreach (var os in info.Children)
                        if (os.NamespaceUri == LibosinfoNamespace && os.LocalName == "os" && os.Attr("id") is { Length: > 0 } id) return id;
        return null;
    }

    /// <summary>true for a Windows guest, false for another known OS, null when the domain does not say.</summary>
    public static bool? IsWindows(DomainDefinition domain) =>
        Id(domain) is { } id ? id.StartsWith("http://microsoft.com/win", StringComparison.Ordinal) : null;

    /// <summary>What an IDE disk moved to q35's AHCI means to this guest.</summary>
    public static string SataNote(DomainDefinition domain) => IsWindows(domain) switch
    {
        true => "Windows needs its AHCI driver (storahci) enabled before the first q35 boot",
        false => $"the guest ({Id(domain)}) finds the disk through its AHCI driver",
        null => "the guest needs an AHCI driver (a Windows guest: enable storahci before the first q35 boot; the domain does not say its OS)",
    };
}
