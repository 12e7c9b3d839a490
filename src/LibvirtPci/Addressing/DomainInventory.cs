using LibvirtPci.Domain;

namespace LibvirtPci.Addressing;

/// <summary>
/// The device lists of a domain in the order libvirt keeps them after parsing and post-parse
/// (virDomainDef): controllers grouped by type and sorted by index, disks sorted per bus,
/// the primary video first, hostdevs of &lt;interface type='hostdev'&gt; before &lt;hostdev&gt;s,
/// plus the devices libvirt adds implicitly (default USB, SATA, PCI root, memballoon, disk and
/// virtio-serial controllers, a video for graphics). Address assignment walks these lists.
/// </summary>
public sealed class DomainInventory
{
    public DomainDefinition Domain { get; }
    public QemuCapabilities Caps { get; }
    /// <summary>The libvirt whose choices are reproduced.</summary>
    public LibvirtProfile Libvirt { get; }

    public MachineFamily Family => Domain.Family;

    public List<PlannedDevice> Controllers { get; } = new();
    public List<PlannedDevice> Filesystems { get; } = new();
    public List<PlannedDevice> Nets { get; } = new();
    public List<PlannedDevice> Sounds { get; } = new();
    public List<PlannedDevice> Disks { get; } = new();
    public List<PlannedDevice> Hostdevs { get; } = new();
    public PlannedDevice? Memballoon { get; private set; }
    public List<PlannedDevice> Rngs { get; } = new();
    public List<PlannedDevice> Watchdogs { get; } = new();
    public List<PlannedDevice> Videos { get; } = new();
    public List<PlannedDevice> Shmems { get; } = new();
    public List<PlannedDevice> Inputs { get; } = new();
    public List<PlannedDevice> Serials { get; } = new();
    public List<PlannedDevice> Iommus { get; } = new();
    public List<PlannedDevice> Vsocks { get; } = new();
    public List<PlannedDevice> Memories { get; } = new();
    /// <summary>Every other device element (only matters if it carries a PCI address).</summary>
    public List<PlannedDevice> Others { get; } = new();

    /// <summary>Devices libvirt adds by itself, in the order it adds them.</summary>
    public List<PlannedDevice> Implicit { get; } = new();

    private readonly Dictionary<Device, string> _diskBus = new();
    private readonly Dictionary<Device, int> _diskIndex = new();

    public DomainInventory(DomainDefinition domain, QemuCapabilities caps, LibvirtProfile libvirt)
    {
        Domain = domain;
        Caps = caps;
        Libvirt = libvirt;
        Read();
        AssignControllerIndexes();
        AssignSpaprVioAddresses();
        AddDefaultDevices();
        ApplyModelDefaults();
        AddImplicitControllers();
        AddImplicitVideo();
        AddVirtioSerialControllersForPorts();
    }

    /// <summary>All devices in libvirt's virDomainDeviceInfoIterate order (used to collect given addresses).</summary>
    public IEnumerable<PlannedDevice> IterationOrder()
    {
        foreach (var d in Disks) yield return d;
        foreach (var d in Nets) yield return d;
        foreach (var d in Sounds) yield return d;
        foreach (var d in Hostdevs) yield return d;
        foreach (var d in Videos) yield return d;
        foreach (var d in Controllers) yield return d;
        foreach (var d in Serials) yield return d;
        foreach (var d in Inputs) yield return d;
        foreach (var d in Filesystems) yield return d;
        foreach (var d in Watchdogs) yield return d;
        if (Memballoon is not null) yield return Memballoon;
        foreach (var d in Shmems) yield return d;
        foreach (var d in Rngs) yield return d;
        foreach (var d in Memories) yield return d;
        foreach (var d in Vsocks) yield return d;
        foreach (var d in Iommus) yield return d;
        foreach (var d in Others) yield return d;
    }

    private static PlannedDevice FromXml(Device d, string? model = null) => new()
    {
        Source = d,
        Kind = d.Kind,
        Key = d.Key,
        Type = d.Type,
        Model = model ?? d.Model,
        Index = d.Index ?? -1,
        ControllerType = d.ControllerType,
        PciModel = d.ControllerType == "pci" ? PciControllerModels.Parse(d.Element.Attr("model")) : null,
        HotplugOff = d.HotplugOff,
        AddressType = d.Address.Type,
        Pci = d.Address.Pci,
        Multifunction = d.Address.Multifunction,
        Origin = d.Address.IsPciPresent ? AddressOrigin.Kept : AddressOrigin.NotPci,
        Reason = d.Address.IsPciPresent ? "address given in the XML" : "",
    };

    private void Read()
    {
        // libvirt's parser allows one of each of these (virDomainDefParseXML).
        foreach (var single in new[] { "memballoon", "watchdog", "vsock", "iommu" })
        {
            var all = Domain.Devices.Where(d => d.Kind == single).ToList();
            bool several = single == "watchdog" && Libvirt.Has(LibvirtBehaviour.MultipleWatchdogs);
            var second = (several ? all.Where(d => d.Element.Attr("model") == "itco") : all).Skip(1).FirstOrDefault();
            if (second is not null)
                throw Refuse(FromXml(second), "LP225", $"only a single <{single}{(several ? " model='itco'" : "")}> device is supported (libvirt {Libvirt} refuses a second one)");
        }
        var ifaceHostdevs = new List<PlannedDevice>();
        var hostdevs = new List<PlannedDevice>();
        PlannedDevice? primary = null;
        foreach (var d in Domain.Devices)
        {
            switch (d.Kind)
            {
                case "controller":
                    InsertController(FromXml(d));
                    break;
                case "filesystem": Filesystems.Add(FromXml(d)); break;
                case "interface":
                    if (d.Type == "hostdev") ifaceHostdevs.Add(FromXml(d));
                    else Nets.Add(FromXml(d));
                    break;
                case "sound": Sounds.Add(FromXml(d)); break;
                case "disk": InsertDisk(FromXml(d), d); break;
                case "hostdev": hostdevs.Add(FromXml(d)); break;
                case "memballoon": Memballoon = FromXml(d); break;
                case "rng": Rngs.Add(FromXml(d)); break;
                case "watchdog": Watchdogs.Add(FromXml(d)); break;
                case "video":
                    var v = FromXml(d, d.Element.Element("model")?.Attr("type") ?? "default");
                    if (d.Element.Element("model")?.Attr("primary") == "yes" && primary is null) primary = v;
                    else Videos.Add(v);
                    break;
                case "shmem": Shmems.Add(FromXml(d)); break;
                case "input": Inputs.Add(FromXml(d)); break;
                case "serial": Serials.Add(FromXml(d, d.Element.Element("target")?.Attr("type"))); break;
                case "iommu": Iommus.Add(FromXml(d)); break;
                case "vsock": Vsocks.Add(FromXml(d)); break;
                case "memory": Memories.Add(FromXml(d)); break;
                case "console": break; // a console is a view of serial 0 (same address), never a PCI device of its own
                default: Others.Add(FromXml(d)); break;
            }
        }
        if (primary is not null) Videos.Insert(0, primary);
        Hostdevs.AddRange(ifaceHostdevs);
        Hostdevs.AddRange(hostdevs);
    }

    /// <summary>virDomainControllerInsertPreAlloced: grouped by type, sorted by index, masters before companions.</summary>
    private void InsertController(PlannedDevice c)
    {
        int insertAt = -1;
        bool isMaster = !IsUsb2Companion(c);
        for (int i = Controllers.Count - 1; i >= 0; i--)
        {
            var cur = Controllers[i];
            if (cur.ControllerType != c.ControllerType) continue;
            if (c.Index == -1) { insertAt = i + 1; break; }
            if (cur.Index > c.Index) insertAt = i;
            else if (isMaster && IsUsb2Companion(cur) && cur.Index == c.Index) insertAt = i;
            else if (insertAt == -1) insertAt = i + 1;
        }
        if (insertAt < 0) Controllers.Add(c); else Controllers.Insert(insertAt, c);
    }

    /// <summary>virDomainDefAddController: a controller libvirt adds itself is appended, or since the profile's version put in index order.</summary>
    public void AddControllerAsLibvirtDoes(PlannedDevice c)
    {
        if (Libvirt.Has(LibvirtBehaviour.AddedControllersInIndexOrder)) InsertController(c);
        else Controllers.Add(c);
    }

    /// <summary>A controller with a &lt;master&gt; element is a companion (ich9-uhci*).</summary>
    private static bool IsUsb2Companion(PlannedDevice c) =>
        c.MasterStartPort is not null || c.Source?.Element.Element("master") is not null;

    /// <summary>
    /// virDomainDiskInsert: before the first disk of the same bus with a higher target index,
    /// else after the last disk of that bus, else at the end. Each bus's disks stay sorted, so
    /// the usual case (a disk sorting after the last one) is an append.
    /// </summary>
    private void InsertDisk(PlannedDevice disk, Device d)
    {
        var bus = DiskBus(d);
        int idx = DiskNameIndex(d.TargetDev);
        _diskBus[d] = bus;
        _diskIndex[d] = idx;
        if (Disks.Count > 0 && Disks[^1].Source is { } last && _diskBus[last] == bus && _diskIndex[last] <= idx)
        {
            Disks.Add(disk);
            return;
        }
        int insertAt = -1;
        for (int i = Disks.Count - 1; i >= 0; i--)
        {
            var cur = Disks[i].Source!;
            if (_diskBus[cur] != bus) continue;
            if (_diskIndex[cur] > idx) insertAt = i;
            else if (insertAt == -1) insertAt = i + 1;
        }
        if (insertAt < 0) Disks.Add(disk); else Disks.Insert(insertAt, disk);
    }

    /// <summary>The disk's bus: &lt;target bus=&gt;, else from the target name as libvirt guesses it.</summary>
    public static string DiskBus(Device d)
    {
        var bus = d.Element.Element("target")?.Attr("bus");
        if (bus is not null) return bus;
        if (d.Element.Attr("device") == "floppy") return "fdc";
        var dev = d.TargetDev ?? "";
        if (dev.StartsWith("hd", StringComparison.Ordinal)) return "ide";
        if (dev.StartsWith("sd", StringComparison.Ordinal)) return "scsi";
        if (dev.StartsWith("vd", StringComparison.Ordinal)) return "virtio";
        if (dev.StartsWith("xvd", StringComparison.Ordinal)) return "xen";
        if (dev.StartsWith("ubd", StringComparison.Ordinal)) return "uml";
        if (dev.StartsWith("fd", StringComparison.Ordinal)) return "fdc";
        return "ide";
    }

    public string BusOf(PlannedDevice disk) => _diskBus[disk.Source!];

    /// <summary>virDiskNameToIndex: "vda" → 0, "vdz" → 25, "vdaa" → 26; -1 when not a disk name.</summary>
    public static int DiskNameIndex(string? name)
    {
        if (name is null) return -1;
        string[] prefixes = { "fd", "hd", "vd", "sd", "xvd", "ubd" };
        var p = prefixes.FirstOrDefault(x => name.StartsWith(x, StringComparison.Ordinal));
        if (p is null) return -1;
        int idx = 0, i = p.Length;
        if (i >= name.Length) return -1;
        for (; i < name.Length && name[i] >= 'a' && name[i] <= 'z'; i++)
            idx = (idx + (i == p.Length ? 0 : 1)) * 26 + (name[i] - 'a');
        return i == name.Length || char.IsDigit(name[i]) ? idx : -1;
    }

    /// <summary>
    /// qemuDomainAssignSpaprVIOAddresses runs before PCI assignment on every arch: an ibmvscsi
    /// controller or a spapr-vlan NIC gets a spapr-vio address, so it never takes a PCI slot.
    /// </summary>
    private void AssignSpaprVioAddresses()
    {
        foreach (var d in Controllers.Concat(Nets))
            if (d.AddressType is null && (d.ControllerType == "scsi" && d.Model == "ibmvscsi" || d.Kind == "interface" && d.Model == "spapr-vlan"))
                d.AddressType = "spapr-vio";
    }

    /// <summary>virDomainAssignControllerIndexes: the lowest unused index of the type.</summary>
    private void AssignControllerIndexes()
    {
        var used = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        HashSet<int> Used(string? type) => used.TryGetValue(type ?? "", out var set) ? set : used[type ?? ""] = new HashSet<int>();
        foreach (var c in Controllers.Where(c => c.Index != -1)) Used(c.ControllerType).Add(c.Index);
        for (int i = 0; i < Controllers.Count; i++)
        {
            var c = Controllers[i];
            if (c.Index != -1) continue;
            if (c.ControllerType == "usb" && DomainDefinition.IsIch9Usb2Model(c.Model) && i > 0)
            {
                var prev = Controllers[i - 1];
                if (prev.ControllerType == "usb" && DomainDefinition.IsIch9Usb2Model(prev.Model)
                    && !Controllers.Any(o => o != c && o.ControllerType == "usb" && o.Model == c.Model && o.Index == prev.Index))
                {
                    c.Index = prev.Index;
                    c.Key = ControllerKey.Of("usb", prev.Index, c.Model);
                    continue;
                }
            }
            var taken = Used(c.ControllerType);
            int idx = 0;
            while (taken.Contains(idx)) idx++;
            c.Index = idx;
            taken.Add(idx);
            c.Key = ControllerKey.Of(c.ControllerType!, idx);
        }
    }

    private PlannedDevice? FindController(string type, int index) =>
        Controllers.FirstOrDefault(c => c.ControllerType == type && c.Index == index);

    private PlannedDevice AddController(string type, int index, string? model, PciControllerModel? pciModel = null, int? masterStartPort = null, string? why = null)
    {
        var c = new PlannedDevice
        {
            Kind = "controller",
            Key = ControllerKey.Of(type, index, model),
            ControllerType = type,
            Index = index,
            Model = model,
            PciModel = pciModel,
            MasterStartPort = masterStartPort,
            Reason = why ?? "",
        };
        AddControllerAsLibvirtDoes(c);
        Implicit.Add(c);
        return c;
    }

    /// <summary>qemuDomainDefAddDefaultDevices for x86.</summary>
    private void AddDefaultDevices()
    {
        bool q35 = Family == MachineFamily.Q35;
        if (FindController("usb", 0) is null)
        {
            if (!q35) AddController("usb", 0, null, why: "libvirt adds a USB controller to every pc machine");
            else if (Caps.Has(QemuCap.QemuXhci)) AddController("usb", 0, "qemu-xhci", why: "libvirt adds a USB controller to every q35 machine");
            else if (Caps.Has(QemuCap.NecUsbXhci)) AddController("usb", 0, "nec-xhci", why: "libvirt adds a USB controller to every q35 machine");
            else if (Caps.Has(QemuCap.Ich9UsbEhci1))
            {
                AddController("usb", 0, "ich9-ehci1", why: "libvirt adds a USB2 controller set to q35 without xHCI");
                AddController("usb", 0, "ich9-uhci1", masterStartPort: 0, why: "companion of the default ich9-ehci1");
                AddController("usb", 0, "ich9-uhci2", masterStartPort: 2, why: "companion of the default ich9-ehci1");
                AddController("usb", 0, "ich9-uhci3", masterStartPort: 4, why: "companion of the default ich9-ehci1");
            }
        }
        if (q35 && FindController("sata", 0) is null)
            AddController("sata", 0, null, why: "q35 always has its AHCI controller at 00:1f.2");
        var root = FindController("pci", 0);
        var rootModel = q35 ? PciControllerModel.PcieRoot : PciControllerModel.PciRoot;
        if (root is null)
            AddController("pci", 0, rootModel.XmlName(), rootModel, why: "the machine's root bus");
        else if (root.PciModel != rootModel)
            throw Refuse(root, "LP206", $"the PCI controller with index='0' must be model='{rootModel.XmlName()}' for this machine type, but model='{root.Source?.Element.Attr("model")}' was found instead");
        if (Memballoon is null)
        {
            Memballoon = new PlannedDevice { Kind = "memballoon", Key = "memballoon/virtio#0", Model = "virtio", Reason = "libvirt adds a virtio balloon unless <memballoon model='none'/>" };
            Implicit.Add(Memballoon);
        }
    }

    /// <summary>Per-device post-parse defaults that change connect flags.</summary>
    private void ApplyModelDefaults()
    {
        foreach (var c in Controllers)
        {
            if (c.ControllerType == "usb" && c.Model is null && Caps.Has(QemuCap.Piix3UsbUhci)) c.Model = "piix3-uhci";
            if (c.ControllerType == "scsi" && c.Model is null) c.Model = DefaultScsiModel(c);
        }
        foreach (var n in Nets)
            if (n.Source?.Element.Element("model") is null) n.Model = DefaultNetModel();
        foreach (var v in Videos)
            if (v.Model == "default") v.Model = DefaultVideoModel();
        foreach (var v in Vsocks)
            v.Model ??= "virtio";
    }

    private string DefaultScsiModel(PlannedDevice c)
    {
        if (Libvirt.Has(LibvirtBehaviour.ScsiModelFromFirstController)
            && Controllers.FirstOrDefault(o => o.ControllerType == "scsi" && o.Source?.Element.Attr("model") is not null) is { } first)
            return first.Source!.Element.Attr("model")!;
        if (Caps.Has(QemuCap.ScsiLsi)) return "lsilogic";
        if (Caps.Has(QemuCap.VirtioScsi)) return "virtio-scsi";
        throw Refuse(c, "LP207", $"unable to determine model for SCSI controller idx={c.Index}");
    }

    public string DefaultNetModel() =>
        Caps.Has(QemuCap.Rtl8139) ? "rtl8139" : Caps.Has(QemuCap.E1000) ? "e1000" : Caps.Has(QemuCap.VirtioNet) ? "virtio" : "rtl8139";

    public string DefaultVideoModel() =>
        Caps.Has(QemuCap.CirrusVga) ? "cirrus" : Caps.Has(QemuCap.Vga) ? "vga" : "default";

    /// <summary>virDomainDefAddImplicitControllers: controllers that disks, channels and hostdevs refer to.</summary>
    private void AddImplicitControllers()
    {
        AddDiskControllers("scsi", "scsi", 7);
        AddDiskControllers("fdc", "fdc", 2);
        AddDiskControllers("ide", "ide", 4);
        AddDiskControllers("sata", "sata", 6);
        foreach (var chr in Domain.Devices.Where(d => d.Kind is "channel" or "console"))
        {
            var target = chr.Element.Element("target")?.Attr("type");
            if (target != "virtio") continue;
            int idx = chr.Address.Type == "virtio-serial" ? (int)(PciAddress.ParseNumber(chr.Address.Element!.Attr("controller") ?? "0") ?? 0) : 0;
            if (FindController("virtio-serial", idx) is null)
                AddController("virtio-serial", idx, null, why: $"a virtio {chr.Kind} needs a virtio-serial controller");
        }
        foreach (var h in Domain.Devices.Where(d => d.Kind == "hostdev" && d.Type == "scsi"))
        {
            int idx = h.Address.Type == "drive" ? (int)(PciAddress.ParseNumber(h.Address.Element!.Attr("controller") ?? "0") ?? 0) : 0;
            for (int i = 0; i <= idx; i++)
                if (FindController("scsi", i) is null)
                    AddScsiController(i, "a SCSI hostdev needs a SCSI controller");
        }
    }

    /// <summary>
    /// qemuDomainAssignVirtioSerialAddresses, as far as PCI cares: virtio consoles (from port 0),
    /// then virtio channels (from port 1) take the first free port of the lowest-indexed controller
    /// (virDomainVirtioSerialAddrNext); when every port is taken libvirt adds the lowest free
    /// virtio-serial index with the default 31 ports (virDomainVirtioSerialAddrSetAutoaddController),
    /// and that controller needs a PCI slot. Ports given in the XML are reserved first; a device
    /// that names only its controller takes a port there or nothing (libvirt's error, not ours).
    /// </summary>
    private void AddVirtioSerialControllersForPorts()
    {
        const int defaultPorts = 31; // VIR_DOMAIN_DEFAULT_VIRTIO_SERIAL_PORTS
        var taken = new SortedDictionary<int, bool[]>();
        foreach (var c in Controllers.Where(c => c.ControllerType == "virtio-serial" && c.Index >= 0))
            taken[c.Index] = new bool[PciAddress.ParseNumber(c.Source?.Element.Attr("ports") ?? "") is { } n and > 0 and <= 1024 ? (int)n : defaultPorts];
        var users = Domain.Devices.Where(d => d.Kind is "console" or "channel" && d.Element.Element("target")?.Attr("type") == "virtio").ToList();
        int? Number(Device d, string attribute) => d.Address.Type == "virtio-serial" ? (int?)PciAddress.ParseNumber(d.Address.Element!.Attr(attribute) ?? "0") : null;
        foreach (var d in users)
            if (Number(d, "port") is int port and > 0 && taken.TryGetValue(Number(d, "controller") ?? 0, out var map) && port < map.Length)
                map[port] = true;
        foreach (var d in users.Where(d => d.Kind == "console").Concat(users.Where(d => d.Kind == "channel")))
        {
            if (Number(d, "port") is > 0) continue;
            int first = d.Kind == "console" ? 0 : 1;
            if (d.Address.Type == "virtio-serial")
            {   // virDomainVirtioSerialAddrNextFromController
                if (taken.TryGetValue(Number(d, "controller") ?? 0, out var own) && Array.IndexOf(own, false, 1) is > 0 and var p) own[p] = true;
                continue;
            }
            bool placed = false;
            foreach (var map in taken.Values)
                if (Array.IndexOf(map, false, first) is >= 0 and var p) { map[p] = true; placed = true; break; }
            if (placed) continue;
            int index = 0;
            while (taken.ContainsKey(index)) index++;
            AddController("virtio-serial", index, null, why: $"the virtio channels and consoles outnumber the ports of virtio-serial controller{(taken.Count > 1 ? "s" : "")} {string.Join(", ", taken.Keys)}");
            taken[index] = new bool[defaultPorts];
            taken[index][first] = true;
        }
    }

    private void AddScsiController(int index, string why)
    {
        var c = AddController("scsi", index, null, why: why);
        c.Model = DefaultScsiModel(c);
    }

    private void AddDiskControllers(string controllerType, string diskBus, int unitsPerController)
    {
        int max = -1;
        foreach (var disk in Disks)
        {
            if (BusOf(disk) != diskBus) continue;
            int controller;
            if (disk.AddressType == "drive")
                controller = (int)(PciAddress.ParseNumber(disk.Source!.Address.Element!.Attr("controller") ?? "0") ?? 0);
            else if (disk.AddressType is null)
            {
                int idx = DiskNameIndex(disk.Source!.TargetDev);
                if (idx < 0) continue;
                controller = idx / unitsPerController;
            }
            else continue;
            max = Math.Max(max, controller);
        }
        for (int i = 0; i <= max; i++)
        {
            if (FindController(controllerType, i) is not null) continue;
            if (controllerType == "scsi") AddScsiController(i, $"{diskBus} disks need controller {i}");
            else AddController(controllerType, i, null, why: $"{diskBus} disks need controller {i}");
        }
    }

    private void AddImplicitVideo()
    {
        if (Videos.Count > 0 || !Domain.Devices.Any(d => d.Kind == "graphics")) return;
        var model = DefaultVideoModel();
        var v = new PlannedDevice { Kind = "video", Key = $"video/{model}#0", Model = model, Reason = "libvirt adds a video device for <graphics>" };
        Videos.Add(v);
        Implicit.Add(v);
    }

    /// <summary>Gives remembered addresses (stability ledger) to devices that have none in the XML.</summary>
    public void ApplyPins(IReadOnlyDictionary<string, PciAddress> pins)
    {
        if (pins.Count == 0) return;
        foreach (var d in IterationOrder())
            if (d.IsPciWanted && d.AddressType != "spapr-vio" && pins.TryGetValue(d.Key, out var addr))
            {
                d.AddressType = "pci";
                d.Pci = addr;
                d.Multifunction = null;
                d.Origin = AddressOrigin.Assigned;
                d.Reason = "its address remembered in the ledger (it had it before)";
            }
    }

    public InputException Refuse(PlannedDevice d, string code, string message)
    {
        var el = d.Source?.Element ?? Domain.DevicesElement ?? Domain.Root;
        var (l, c) = Domain.Position(el);
        return new InputException(Domain.Name, code, message, l, c);
    }
}
