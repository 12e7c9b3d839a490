using LibvirtPci.Addressing;

namespace LibvirtPci.Cli;

/// <summary>A libvirt profile and where the choice came from (said by --explain, --json, tree and lint).</summary>
public sealed record LibvirtChoice(LibvirtProfile Profile, string From)
{
    /// <summary>The libvirt found (installed, or the daemon's) is newer than the newest known: the newest profile stands in, and the CLI says so on stderr.</summary>
    public bool NewerThanKnown { get; init; }

    /// <summary>
    /// First match wins: <paramref name="flag"/> (--libvirt-version); the repository's
    /// .libvirt-pci.json; <paramref name="daemon"/> (migrate: what `virsh version` said); the libvirt
    /// installed here, found without connecting to anything; else the newest profile.
    /// </summary>
    public static LibvirtChoice Resolve(LibvirtProfile? flag, ProjectSettings? project, LibvirtChoice? daemon = null) =>
        flag is not null ? new(flag, "--libvirt-version")
        : project?.Libvirt is { } pinned ? new(pinned, project.File)
        : daemon ?? Installed() ?? new(LibvirtProfile.For(LibvirtProfile.Newest), "the newest known; no libvirt installed here");

    /// <summary>
    /// The installed libvirt, from the name its library's libvirt.so.0 link points to
    /// (libvirt.so.0.MMMmmm.0: 9000 is 9.0, 11003 is 11.3) in the usual library folders, or the
    /// colon-separated folders in LIBVIRT_PCI_LIBDIRS: a few stat calls, no process, no connection.
    /// A version newer than the newest known maps to the newest profile (From says so).
    /// </summary>
    public static LibvirtChoice? Installed()
    {
        var listed = Environment.GetEnvironmentVariable("LIBVIRT_PCI_LIBDIRS") ?? "";
        lock (InstalledByLibdirs)
        {
            if (!InstalledByLibdirs.TryGetValue(listed, out var found))
                InstalledByLibdirs[listed] = found = FindInstalled(listed.Length > 0
                    ? listed.Split(':', StringSplitOptions.RemoveEmptyEntries)
                    : ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib", "/usr/lib/aarch64-linux-gnu", "/usr/lib/i386-linux-gnu"]);
            return found;
        }
    }

    private static readonly Dictionary<string, LibvirtChoice?> InstalledByLibdirs = new(StringComparer.Ordinal);

    private static LibvirtChoice? FindInstalled(string[] dirs)
    {
        foreach (var dir in dirs)
        {
            var link = Path.Combine(dir, "libvirt.so.0");
            string? target;
            try { target = File.Exists(link) ? new FileInfo(link).ResolveLinkTarget(returnFinalTarget: true)?.Name ?? Path.GetFileName(link) : null; }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            if (target is not null && FromSoname(target) is { } version && LibvirtProfile.Parse(version, out _, out bool newer) is { } profile)
                return Found(profile, $"the installed libvirt {version}, {Path.Combine(dir, target)}", newer);
        }
        return null;
    }

    /// <summary>"libvirt.so.0.9000.0" → "9.0.0"; libvirt numbers its library major*1000+minor.</summary>
    public static string? FromSoname(string fileName)
    {
        const string prefix = "libvirt.so.0.";
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var parts = fileName[prefix.Length..].Split('.');
        return parts.Length == 2 && int.TryParse(parts[0], out int n) && n >= 1000 && int.TryParse(parts[1], out int micro) && micro >= 0
            ? $"{n / 1000}.{n % 1000}.{micro}" : null;
    }

    /// <summary>The daemon's version from `virsh version --daemon` ("Running against daemon: 11.3.0").</summary>
    public static LibvirtChoice? FromVirshVersion(string output, string where)
    {
        const string label = "Running against daemon:";
        int at = output.IndexOf(label, StringComparison.Ordinal);
        if (at < 0) return null;
        var version = output[(at + label.Length)..].TrimStart().Split('\n')[0].Trim();
        if (LibvirtProfile.Parse(version, out _, out bool newer) is not { } profile) return null;
        return Found(profile, $"{where}, libvirt {version}", newer);
    }

    /// <summary>A libvirt found on the host or the daemon; one newer than every profile says so.</summary>
    private static LibvirtChoice Found(LibvirtProfile profile, string from, bool newer) =>
        new(profile, newer ? $"{from}; newer than {LibvirtProfile.Newest.ToString(2)}, whose choices are reproduced" : from) { NewerThanKnown = newer };

    public override string ToString() => $"libvirt {Profile} (from {From})";
}
