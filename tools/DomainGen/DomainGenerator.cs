using System.Text;

namespace LibvirtPci.Tools;

/// <summary>
/// A seeded generator of realistic libvirt domains (q35 and pc): virtio/SATA/SCSI disks,
/// virtio/e1000/e1000e/rtl8139 NICs, USB, video, sound, balloon, RNG, watchdog, PCI hostdevs,
/// some devices with addresses already written. The same seed always gives the same XML, so
/// integration tests and benchmarks are reproducible.
/// </summary>
public sealed class DomainGenerator
{
    private readonly Random _rng;
    private readonly int _seed;

    public DomainGenerator(int seed)
    {
        _seed = seed;
        _rng = new Random(seed);
    }

    /// <param name="NewerDevices">also devices only libvirt 10.4 and later accept or place differently: virtio sound,
    /// usb-net NICs, mtp filesystems, a second watchdog (libvirt 9.1)</param>
    /// <param name="Wild">also the patterns real domains have that tidy ones lack (<see cref="AppendWild"/>):
    /// USB2 companion sets whole, partial and alone, addresses at function &gt; 0 with function 0 left
    /// open, explicit root ports and bridges, IDE/SATA/SCSI disks side by side, virt-install's
    /// defaults, controllers without index or model, NICs without MAC. The other options' domains
    /// are unchanged by it up to where the extras begin.</param>
    public sealed record Options(int MinDevices = 1, int MaxDevices = 40, bool AllowPresetAddresses = true, string? Machine = null, bool NewerDevices = false, bool Wild = false);

    public string Generate(Options? options = null)
    {
        options ??= new Options();
        bool q35 = options.Machine is null ? _rng.Next(2) == 0 : options.Machine == "q35";
        int devices = _rng.Next(options.MinDevices, options.MaxDevices + 1);
        var sb = new StringBuilder();
        sb.Append("<domain type='qemu'>\n");
        sb.Append($"  <name>gen-{_seed}</name>\n");
        sb.Append("  <memory unit='MiB'>512</memory>\n");
        sb.Append("  <vcpu>1</vcpu>\n");
        sb.Append("  <os>\n");
        sb.Append($"    <type arch='x86_64' machine='{(q35 ? "q35" : "pc")}'>hvm</type>\n");
        sb.Append("  </os>\n");
        sb.Append("  <devices>\n");
        int disk = 0, sata = 0, scsi = 0, nic = 0, host = 0;
        // Some q35 domains carry a user's root port at a hand-picked slot with a NIC on it.
        bool q35Preset = q35 && options.AllowPresetAddresses && _rng.Next(3) == 0;
        if (q35Preset)
        {
            sb.Append("    <controller type='pci' index='1' model='pcie-root-port'>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>\n    </controller>\n");
            sb.Append($"    <interface type='network'>\n      <mac address='52:54:00:{_seed & 0xff:x2}:ff:01'/>\n      <source network='default'/>\n      <model type='virtio'/>\n      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n    </interface>\n");
        }
        bool usbDone = false, videoDone = false, balloonDone = false, watchdogDone = false, noUsb = false;
        int newer = 0;
        // pc: a user address must avoid the chipset slots and the primary video slot; use high slots.
        int presetSlot = 0x1e;
        for (int i = 0; i < devices; i++)
        {
            bool preset = options.AllowPresetAddresses && !q35 && _rng.Next(6) == 0 && presetSlot > 0x18;
            string address = preset ? $"\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x{presetSlot--:x2}' function='0x0'/>" : "";
            switch (_rng.Next(options.NewerDevices ? 14 : 12))
            {
                case 0:
                case 1:
                    sb.Append($"    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n      <source file='/var/lib/libvirt/images/gen{_seed}-{disk}.qcow2'/>\n      <target dev='vd{DiskSuffix(disk++)}' bus='virtio'/>{address}\n    </disk>\n");
                    break;
                case 2:
                    sb.Append($"    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/gen{_seed}-sata{sata}.img'/>\n      <target dev='sd{DiskSuffix(sata++)}' bus='sata'/>\n    </disk>\n");
                    break;
                case 3:
                    sb.Append($"    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/gen{_seed}-scsi{scsi}.img'/>\n      <target dev='sd{DiskSuffix(20 + scsi++)}' bus='scsi'/>\n    </disk>\n");
                    break;
                case 4:
                case 5:
                case 6:
                    var model = new[] { "virtio", "e1000", "e1000e", "rtl8139", "virtio" }[_rng.Next(5)];
                    sb.Append($"    <interface type='network'>\n      <mac address='52:54:00:{_seed & 0xff:x2}:{nic / 256:x2}:{nic++ % 256:x2}'/>\n      <source network='default'/>\n      <model type='{model}'/>{address}\n    </interface>\n");
                    break;
                case 7:
                    if (usbDone) goto case 4;
                    usbDone = true;
                    var usb = q35 ? new[] { "qemu-xhci", "none", "ich9-ehci1", "nec-xhci" }[_rng.Next(4)] : new[] { "piix3-uhci", "qemu-xhci", "none" }[_rng.Next(3)];
                    if (usb == "ich9-ehci1")
                    {
                        sb.Append("    <controller type='usb' index='0' model='ich9-ehci1'/>\n");
                        sb.Append("    <controller type='usb' index='0' model='ich9-uhci1'>\n      <master startport='0'/>\n    </controller>\n");
                    }
                    else sb.Append($"    <controller type='usb' index='0' model='{usb}'/>\n");
                    noUsb = usb == "none";
                    break;
                case 8:
                    if (videoDone) goto case 0;
                    videoDone = true;
                    var video = new[] { "qxl", "vga", "virtio", "cirrus", "none" }[_rng.Next(5)];
                    sb.Append($"    <video>\n      <model type='{video}'/>\n    </video>\n");
                    break;
                case 9:
                    var sound = q35 ? new[] { "ich9", "ich6", "ac97" }[_rng.Next(3)] : new[] { "ich6", "ac97", "es1370" }[_rng.Next(3)];
                    sb.Append($"    <sound model='{sound}'/>\n");
                    break;
                case 10:
                    if (!balloonDone && _rng.Next(2) == 0)
                    {
                        balloonDone = true;
                        sb.Append($"    <memballoon model='{(_rng.Next(3) == 0 ? "none" : "virtio")}'/>\n");
                    }
                    else if (!watchdogDone)
                    {
                        watchdogDone = true;
                        sb.Append("    <watchdog model='i6300esb' action='reset'/>\n");
                    }
                    else
                    {
                        sb.Append("    <rng model='virtio'>\n      <backend model='random'>/dev/urandom</backend>\n    </rng>\n");
                    }
                    break;
                case 12:
                case 13:
                    switch (newer++ % 4)
                    {
                        case 0:
                            sb.Append("    <sound model='virtio'/>\n");
                            break;
                        case 1 when !noUsb:
                            usbDone = true; // a usb-net NIC needs the default USB controller, not model='none'
                            sb.Append($"    <interface type='user'>\n      <mac address='52:54:00:{_seed & 0xff:x2}:fe:{nic++ % 256:x2}'/>\n      <model type='usb-net'/>\n    </interface>\n");
                            break;
                        case 2 when !noUsb:
                            usbDone = true;
                            sb.Append($"    <filesystem type='mount'>\n      <driver type='mtp'/>\n      <source dir='/tmp/gen{_seed}-{newer}'/>\n      <target dir='mtp{newer}'/>\n    </filesystem>\n");
                            break;
                        default:
                            sb.Append("    <watchdog model='i6300esb' action='reset'/>\n");
                            watchdogDone = true;
                            break;
                    }
                    break;
                default:
                    sb.Append($"    <hostdev mode='subsystem' type='pci' managed='no'>\n      <source>\n        <address domain='0x0000' bus='0x{0x40 + host / 32:x2}' slot='0x{host % 32:x2}' function='0x0'/>\n      </source>\n    </hostdev>\n");
                    host++;
                    break;
            }
        }
        if (options.Wild)
        {
            AppendWild(sb, q35, usbDone, noUsb, sata, options.NewerDevices);
            if (Chance(70)) sb.Replace("  </os>\n", "  </os>\n  <features>\n    <acpi/>\n    <apic/>\n  </features>\n");
        }
        sb.Append("  </devices>\n</domain>\n");
        return sb.ToString();
    }

    private bool Chance(int percent) => _rng.Next(100) < percent;
    private T Pick<T>(params T[] items) => items[_rng.Next(items.Length)];

    /// <summary>
    /// The patterns of domains that real libvirt daemons, virt-install and people write, each with
    /// some chance: what a differential harness needs to meet before users do.
    /// </summary>
    private void AppendWild(StringBuilder sb, bool q35, bool usbDone, bool noUsb, int sata, bool newer)
    {
        string Idx(int index) => Chance(40) ? "" : $" index='{index}'";
        // USB2 sets: whole, partial, a master alone, a companion without its predecessor, or a
        // controller without model (pc: piix3-uhci; q35: qemu-xhci) and without index.
        if (!usbDone && Chance(60))
        {
            string idx = Idx(0);
            string Companion(int n) => $"    <controller type='usb'{idx} model='ich9-uhci{n}'>\n      <master startport='{(n - 1) * 2}'/>\n    </controller>\n";
            switch (_rng.Next(6))
            {
                case 0: sb.Append($"    <controller type='usb'{idx} model='ich9-ehci1'/>\n").Append(Companion(1)).Append(Companion(2)).Append(Companion(3)); break;
                case 1: sb.Append($"    <controller type='usb'{idx} model='ich9-ehci1'/>\n").Append(Companion(1)); break;
                case 2: sb.Append($"    <controller type='usb'{idx} model='ich9-ehci1'/>\n"); break;
                case 3: sb.Append($"    <controller type='usb'{idx} model='ich9-ehci1'/>\n").Append(Companion(2)); break;
                case 4: sb.Append($"    <controller type='usb'{idx}/>\n"); break;
                default: sb.Append($"    <controller type='usb'{idx} model='{(q35 ? "qemu-xhci" : "piix3-uhci")}'{(Chance(50) ? " ports='15'" : "")}/>\n"); break;
            }
        }
        // Explicit PCI controllers, with and without index and address.
        if (q35)
        {
            int ports = Chance(30) ? _rng.Next(1, 15) : _rng.Next(0, 3);
            // A PCI controller without index takes the lowest free one, and index 0 must be the root
            // (libvirt refuses a port there): virt-install writes the root first.
            sb.Append($"    <controller type='pci'{Idx(0)} model='pcie-root'/>\n");
            for (int i = 0; i < ports; i++) sb.Append("    <controller type='pci' model='pcie-root-port'/>\n");
            if (Chance(25)) sb.Append("    <controller type='pci' model='pcie-to-pci-bridge'/>\n");
            // Ports at functions above 0 with function 0 left to libvirt (or to nobody).
            if (Chance(25))
            {
                int slot = Pick(0x0a, 0x0b, 0x0c);
                foreach (int f in Chance(50) ? new[] { 2, 4 } : new[] { 1 })
                    sb.Append($"    <controller type='pci' model='pcie-root-port'>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x{slot:x2}' function='0x{f:x}'/>\n    </controller>\n");
            }
        }
        else
        {
            if (Chance(20)) sb.Append($"    <controller type='pci'{Idx(0)} model='pci-root'/>\n    <controller type='pci'{Idx(1)} model='pci-bridge'/>\n");
            // A device at a function above 0 of a free slot, function 0 left open.
            if (Chance(20))
                sb.Append($"    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/gen{_seed}-f.qcow2'/>\n      <target dev='vdzz' bus='virtio'/>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x{Pick(0x10, 0x11, 0x12):x2}' function='0x{_rng.Next(1, 8):x}'/>\n    </disk>\n");
        }
        // Disks on every bus side by side: IDE (pc only; hda..hdd), SATA with and without drive addresses, SCSI.
        if (!q35 && Chance(50))
        {
            sb.Append($"    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/gen{_seed}-ide.img'/>\n      <target dev='hda' bus='ide'/>\n    </disk>\n");
            if (Chance(50)) sb.Append("    <disk type='file' device='cdrom'>\n      <target dev='hdc' bus='ide'/>\n      <readonly/>\n    </disk>\n");
        }
        if (Chance(35)) // sda when it is free: hda and sda are both unit 0 of SATA controller 0
            sb.Append($"    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/gen{_seed}-sata.img'/>\n      <target dev='sd{DiskSuffix(sata)}' bus='sata'/>\n    </disk>\n");
        if (Chance(25))
        {
            sb.Append($"    <controller type='scsi'{Idx(0)}{(Chance(70) ? " model='virtio-scsi'" : "")}/>\n");
            sb.Append($"    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/gen{_seed}-scsi.img'/>\n      <target dev='sdq' bus='scsi'/>\n    </disk>\n");
        }
        // What virt-install writes by default: a guest agent channel, SPICE with its USB redirection, a tablet, a console.
        if (!noUsb && Chance(40))
        {
            sb.Append("    <channel type='unix'>\n      <target type='virtio' name='org.qemu.guest_agent.0'/>\n    </channel>\n");
            sb.Append("    <input type='tablet' bus='usb'/>\n");
            sb.Append("    <console type='pty'/>\n");
            if (Chance(50))
            {
                sb.Append("    <channel type='spicevmc'>\n      <target type='virtio' name='com.redhat.spice.0'/>\n    </channel>\n");
                sb.Append("    <graphics type='spice' autoport='yes'/>\n");
                sb.Append("    <redirdev bus='usb' type='spicevmc'/>\n    <redirdev bus='usb' type='spicevmc'/>\n");
            }
            sb.Append(Chance(50) ? "    <controller type='virtio-serial'/>\n" : "");
        }
        // NICs without a MAC (libvirt gives one) and a graphics-only display (libvirt adds the video).
        if (Chance(30))
            sb.Append($"    <interface type='network'>\n      <source network='default'/>\n      <model type='{Pick("virtio", "e1000e", "e1000")}'/>\n    </interface>\n");
        if (Chance(15)) sb.Append("    <graphics type='vnc' port='-1'/>\n");
        if (newer && Chance(20)) sb.Append("    <sound model='virtio'/>\n");
    }

    /// <summary>
    /// One large domain of <paramref name="devices"/> conventional-PCI devices (virtio disks and
    /// e1000 NICs on pc; e1000 and virtio-transitional disks on q35, where PCIe endpoints would
    /// each need a root port), so that thousands fit behind libvirt's auto-added bridges.
    /// </summary>
    public static string Big(int devices, string machine)
    {
        var sb = new StringBuilder();
        sb.Append($"<domain type='qemu'>\n  <name>big-{machine}-{devices}</name>\n  <memory unit='GiB'>16</memory>\n  <os>\n    <type arch='x86_64' machine='{machine}'>hvm</type>\n  </os>\n  <devices>\n");
        // libvirt's dry run cannot place more than a few auto-added bridges (each needs a slot it
        // only looks for at the end), so a domain this size lists its bridges, as a real one would.
        sb.Append(machine == "q35"
            ? "    <controller type='pci' index='0' model='pcie-root'/>\n    <controller type='pci' model='pcie-root-port'/>\n"
            : "    <controller type='pci' index='0' model='pci-root'/>\n");
        for (int b = 0; b < devices / 30 + 2; b++)
            sb.Append(machine == "q35" && b == 0
                ? "    <controller type='pci' model='pcie-to-pci-bridge'/>\n"
                : "    <controller type='pci' model='pci-bridge'/>\n");
        for (int i = 0; i < devices; i++)
        {
            if (i % 2 == 0)
                sb.Append($"    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/big-{i}.qcow2'/>\n      <target dev='vd{DiskSuffix(i / 2)}' bus='virtio'/>{(machine == "q35" ? "\n      <model type='virtio-transitional'/>" : "")}\n    </disk>\n".Replace("<model type='virtio-transitional'/>", ""));
            else
                sb.Append($"    <interface type='network'>\n      <mac address='52:54:{i >> 24 & 0xff:x2}:{i >> 16 & 0xff:x2}:{i >> 8 & 0xff:x2}:{i & 0xff:x2}'/>\n      <source network='default'/>\n      <model type='e1000'/>\n    </interface>\n");
        }
        sb.Append("  </devices>\n</domain>\n");
        var xml = sb.ToString();
        // A virtio-transitional disk is a <disk model='virtio-transitional'>.
        return machine == "q35" ? xml.Replace("<disk type='file' device='disk'>", "<disk type='file' device='disk' model='virtio-transitional'>") : xml;
    }

    private static string DiskSuffix(int index)
    {
        var s = "";
        index++;
        while (index > 0)
        {
            index--;
            s = (char)('a' + index % 26) + s;
            index /= 26;
        }
        return s;
    }
}
