using LibvirtPci.Limits;

namespace LibvirtPci.Cli;

/// <summary>
/// The host's OVMF (edk2) release, resolved once per file like the libvirt choice: --ovmf-version,
/// else the .libvirt-pci.json's ovmfVersion, else the installed Debian/Ubuntu `ovmf` package —
/// read only when a verdict depends on it (FirmwareReleases is lazy), else unknown.
/// </summary>
internal static class FirmwareChoice
{
    public static FirmwareReleases Resolve(string? flag, ProjectSettings? project) =>
        flag is not null ? FirmwareReleases.Known(flag)
        : project?.Ovmf is { } pinned ? FirmwareReleases.Known(pinned)
        : Installed(Environment.GetEnvironmentVariable("LIBVIRT_PCI_DPKG_STATUS") ?? "/var/lib/dpkg/status");

    /// <summary>One lookup per database and process, shared by every file of a batch.</summary>
    private static FirmwareReleases Installed(string status) => InstalledByStatus.GetOrAdd(status, s => new FirmwareReleases(() => FromDpkg(s)));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, FirmwareReleases> InstalledByStatus = new(StringComparer.Ordinal);

    /// <summary>
    /// The `ovmf` package's version from dpkg's status database (LIBVIRT_PCI_DPKG_STATUS names
    /// another, for tests). RPM hosts (edk2-ovmf) keep theirs in a database we do not read: unknown there.
    /// </summary>
    /// <remarks>No database, no ovmf package, a version that is not an edk2 release, or a database that cannot be read: unknown.</remarks>
    private static string? FromDpkg(string status)
    {
        try
        {
            if (!File.Exists(status)) return null;
            bool inOvmf = false;
            foreach (var line in File.ReadLines(status))
            {
                if (line.Length == 0) inOvmf = false;
                else if (line.StartsWith("Package: ", StringComparison.Ordinal)) inOvmf = line == "Package: ovmf";
                else if (inOvmf && line.StartsWith("Version: ", StringComparison.Ordinal)) return FirmwareReleases.Normalize(line["Version: ".Length..]);
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>--ovmf-version: an edk2 release (2022.11, edk2-stable202211, 2022.11-6+deb12u2), normalized; anything else is LP001.</summary>
    public static ValueOption<OvmfRelease> Option(McMaster.Extensions.CommandLineUtils.CommandLineApplication app) => new(app, "--ovmf-version <YYYY.MM>",
        $"the host's OVMF (edk2) release, for the firmware's I/O limit: {string.Join(", ", FirmwareProfile.OvmfReleases.Select(o => o.Release))} were booted; default: .libvirt-pci.json's ovmfVersion, else the installed ovmf package; unknown, a limit that fails on one release only is a warning",
        text => FirmwareReleases.Normalize(text) is { } release ? new OvmfRelease(release) : null, "an edk2 release such as 2022.11");
}

/// <summary>An edk2 release as --ovmf-version names it, normalized (2022.11).</summary>
internal readonly record struct OvmfRelease(string Name);
