namespace LibvirtPci.Limits;

/// <summary>
/// The firmware builds the target host has, as far as they are known: the CLI resolves them once
/// (--ovmf-version, .libvirt-pci.json's ovmfVersion, else the installed Debian ovmf package). The
/// installed package is looked up only when a verdict depends on it (a lazy value), so domains
/// that are nowhere near the limit cost no read of the package database.
/// </summary>
public sealed class FirmwareReleases(Func<string?> resolveOvmf)
{
    private readonly Lazy<string?> _ovmf = new(resolveOvmf);

    public static readonly FirmwareReleases Unknown = new(() => null);

    public static FirmwareReleases Known(string ovmf) => new(() => ovmf);

    /// <summary>The OVMF (edk2) release, "2022.11", or null.</summary>
    public string? Ovmf => _ovmf.Value;

    /// <summary>"2022.11" from a Debian or upstream version ("2022.11-6+deb12u2", "edk2-stable202211" → "2022.11"), or null.</summary>
    public static string? Normalize(string version)
    {
        var v = version.Trim();
        if (v.StartsWith("edk2-stable", StringComparison.Ordinal) && v.Length >= 17) v = $"{v[11..15]}.{v[15..17]}";
        int colon = v.IndexOf(':');
        if (colon >= 0) v = v[(colon + 1)..];
        bool digits(int from, int count) => v.Length >= from + count && v.AsSpan(from, count).IndexOfAnyExceptInRange('0', '9') < 0;
        return v.StartsWith("20", StringComparison.Ordinal) && digits(0, 4) && v.Length >= 7 && v[4] == '.' && digits(5, 2) ? v[..7] : null;
    }
}
