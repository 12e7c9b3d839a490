using LibvirtPci.Domain;

namespace LibvirtPci.Guest;

/// <summary>
/// The names a Linux guest's systemd-udev gives a NIC (udev's net_id builtin, naming scheme v252:
/// Debian 12's systemd, the one the boot probe runs in its guests). NamePolicy in 99-default.link
/// is "onboard slot path": the first that exists is the interface's name.
/// </summary>
public sealed record LinuxNicNames(string? Onboard, string? Slot, string Path)
{
    public string Name => Onboard ?? Slot ?? Path;
}

/// <summary>One device as the guest sees it: its PCI location (the firmware's bus numbers), and
/// for a NIC its Linux names, for a virtio disk its /dev/disk/by-path name.</summary>
public sealed record GuestDevice(string Key, string Kind, string? Model, PciAddress Libvirt, PciAddress Location, LinuxNicNames? Nic, string? ByPath)
{
    /// <summary>"0000:02:01.0": the location as the guest (lspci -D, sysfs, Device Manager's "PCI bus 2, device 1, function 0") shows it.</summary>
    public string Bdf => Location.ToString();
}
