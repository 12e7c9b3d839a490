using LibvirtPci.Addressing;
using LibvirtPci.Limits;
using LibvirtPci.Rewrite;

namespace LibvirtPci.Tools;

/// <summary>The host the fuzzer, the benchmark and the tests reproduce (the library has no default): Debian 12's libvirt 9.0 and OVMF 2022.11.</summary>
public static class ToolTarget
{
    public static readonly LibvirtProfile Libvirt90 = LibvirtProfile.For(new Version(9, 0));

    /// <summary>Debian 12's OVMF, the release that gives up as a whole when short of I/O space (LP602 is an error).</summary>
    public static readonly FirmwareReleases Debian12Firmware = FirmwareReleases.Known("2022.11");

    public static RewriteOptions Options => new() { Libvirt = Libvirt90, Firmware = Debian12Firmware };

    public static AllocationPolicy Policy => new() { Profile = Libvirt90 };
}
