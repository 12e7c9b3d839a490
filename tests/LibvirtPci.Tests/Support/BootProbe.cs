using System.Security.Cryptography;
using System.Text;

namespace LibvirtPci.Tests.Support;

/// <summary>
/// tools/libvirt-boot-probe.sh from C#: what a real guest (SeaBIOS or OVMF, QEMU under the host's
/// libvirt) reports for a domain: the domain as it was defined (the probe's KEEP copy), the PCI
/// functions, hotplug slots and, per NIC, the names systemd-udev gives it.
///
/// Boots are memoised by content under /var/tmp/libvirt-pci-boots (LIBVIRT_PCI_BOOT_CACHE): the
/// key hashes everything a boot's outcome depends on — the document, the firmware, both probe
/// scripts, the kernel, QEMU's and libvirt's versions and the firmware images. Change any and
/// the guest is booted again; the first run on a machine boots everything.
/// </summary>
public sealed record BootReport(string Defined, IReadOnlyDictionary<string, string> Classes, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Nics)
{
    /// <summary>The name udev's default NamePolicy (onboard slot path) gives the NIC at BDF "bb:ss.f".</summary>
    public string? NicName(string bdf) =>
        Nics.TryGetValue(bdf, out var ids) ? ids.GetValueOrDefault("ID_NET_NAME_ONBOARD") ?? ids.GetValueOrDefault("ID_NET_NAME_SLOT") ?? ids.GetValueOrDefault("ID_NET_NAME_PATH") : null;

    public static string? WhyUnavailable() =>
        File.Exists("/usr/share/OVMF/OVMF_CODE_4M.fd") && Directory.GetFiles("/boot", "vmlinuz-*").Length > 0 && File.Exists("/bin/busybox") && File.Exists("/usr/bin/udevadm")
            ? LibvirtDaemon.Host.WhyUnavailable() : "the boot probe needs ovmf, a kernel in /boot, busybox-static and udev";

    private static readonly string CacheDir = Environment.GetEnvironmentVariable("LIBVIRT_PCI_BOOT_CACHE") is { Length: > 0 } d ? d : "/var/tmp/libvirt-pci-boots";
    private static readonly Lazy<string> Environment_ = new(() =>
    {
        var sb = new StringBuilder();
        foreach (var f in new[] { Path.Combine(Paths.Tools, "libvirt-boot-probe.sh"), Path.Combine(Paths.Tools, "guest-initrd.sh"),
                     "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/seabios/bios-256k.bin", "/usr/bin/udevadm" })
            sb.Append(f).Append('=').Append(File.Exists(f) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))) : "-").Append('\n');
        sb.Append(string.Join(",", Directory.GetFiles("/boot", "vmlinuz-*").Order(StringComparer.Ordinal))).Append('\n');
        sb.Append(Proc.Run("virsh", ["-c", LibvirtDaemon.Host.Uri, "version"]).Out);
        return sb.ToString();
    });

    /// <summary>Boots <paramref name="xml"/> (or reads the memoised boot); throws with the probe's output when the guest did not report.</summary>
    public static BootReport Boot(string xml, string firmware)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Environment_.Value + firmware + "\n" + xml)))[..24].ToLowerInvariant();
        var stored = Path.Combine(CacheDir, key);
        if (!File.Exists(stored + ".out"))
        {
            using var dir = new TempDir();
            var input = dir.File("domain.xml", Encoding.UTF8.GetBytes(xml));
            var kept = Path.Combine(dir.Path, "defined.xml");
            var r = Proc.Run("bash", [Path.Combine(Paths.Tools, "libvirt-boot-probe.sh"), input, firmware], env: new Dictionary<string, string?> { ["KEEP"] = kept });
            if (r.Code != 0 || !r.Out.StartsWith("boot=ok", StringComparison.Ordinal))
                throw new InvalidOperationException($"the {firmware} guest did not report:\n{r.Out}{r.Err}\n{xml}");
            Directory.CreateDirectory(CacheDir);
            File.WriteAllText(stored + ".xml.tmp", File.ReadAllText(kept));
            File.Move(stored + ".xml.tmp", stored + ".xml", overwrite: true);
            File.WriteAllText(stored + ".out.tmp", r.Out);
            File.Move(stored + ".out.tmp", stored + ".out", overwrite: true);
        }
        return Parse(File.ReadAllText(stored + ".xml"), File.ReadAllText(stored + ".out"));
    }

    private static BootReport Parse(string defined, string output)
    {
        var classes = new Dictionary<string, string>(StringComparer.Ordinal);
        var nics = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 3 && parts[0] == "dev") classes[parts[1]] = parts[2]["class=".Length..];
            if (parts.Length >= 2 && parts[0] == "nic")
                nics[parts[1]] = parts.Skip(2).Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        }
        return new BootReport(defined, classes, nics);
    }
}
