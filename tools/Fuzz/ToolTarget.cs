using LibvirtPci.Addressing;
using LibvirtPci.Rewrite;

namespace LibvirtPci.Tools;

/// <summary>The libvirt the fuzzer and the benchmark reproduce (the library has no default): Debian 12's 9.0.</summary>
public static class ToolTarget
{
    public static readonly LibvirtProfile Libvirt90 = LibvirtProfile.For(new Version(9, 0));

    public static RewriteOptions Options => new() { Libvirt = Libvirt90 };

    public static AllocationPolicy Policy => new() { Profile = Libvirt90 };
}
