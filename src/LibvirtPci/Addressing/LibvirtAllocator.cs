using LibvirtPci.Domain;

namespace LibvirtPci.Addressing;

/// <summary>
/// What the stability layer asks of the allocator on top of libvirt's rules. A policy with only
/// its profile is exactly that libvirt.
/// </summary>
public sealed record AllocationPolicy
{
    /// <summary>Remembered addresses for devices (by identity key) that have none in the XML.</summary>
    public IReadOnlyDictionary<string, PciAddress> Pins { get; init; } = new Dictionary<string, PciAddress>();
    /// <summary>Released addresses no new device may take while the topology can grow instead; the last resort otherwise (<see cref="AllocationResult.ReusedReleased"/> says which went).</summary>
    public IReadOnlyCollection<PciAddress> Blocked { get; init; } = Array.Empty<PciAddress>();
    /// <summary>No new pcie-root-port below this bus-0 address.</summary>
    public PciAddress? RootPortFloor { get; init; }
    /// <summary>Keep this many empty hotplug root ports (q35); null: libvirt's own single spare rule.</summary>
    public int? SparePorts { get; init; }
    /// <summary>The libvirt whose choices to reproduce (no default: the caller's target).</summary>
    public required LibvirtProfile Profile { get; init; }
}

/// <summary>What the allocator decided: every device with its final address and the controllers/devices it adds.</summary>
public sealed class AllocationResult
{
    public required DomainInventory Inventory { get; init; }
    /// <summary>Devices libvirt adds (implicit devices and auto-added PCI controllers), in the order libvirt appends them.</summary>
    public required IReadOnlyList<PlannedDevice> Added { get; init; }
    /// <summary>pcie-root-port/pci-bridge/... target values libvirt fills in: controller → (attribute, value).</summary>
    public required IReadOnlyDictionary<PlannedDevice, IReadOnlyList<(string Name, string Value)>> ControllerTargets { get; init; }
    public required IReadOnlyDictionary<PlannedDevice, string> ControllerModelNames { get; init; }
    /// <summary>Released (blocked) addresses that went to a device because nothing else was left.</summary>
    public IReadOnlyList<PciAddress> ReusedReleased { get; init; } = [];
}

/// <summary>
/// libvirt 9.0's qemuDomainAssignPCIAddresses for x86 (pc/i440fx and q35), offline: connect
/// flags per device, chipset reservations, a dry run that decides which buses to add, then
/// the real first-fit assignment, multifunction marking and controller target defaults.
/// Pure: takes a parsed domain, returns decisions; the rewriter turns them into edits.
/// </summary>
public sealed class LibvirtAllocator
{
    private readonly DomainInventory _inv;
    private readonly QemuCapabilities _caps;
    private readonly AllocationPolicy _policy;
    private ConnectFlags _pciFlags, _pcieFlags, _virtioFlags;

    private LibvirtAllocator(DomainInventory inventory, AllocationPolicy policy)
    {
        _inv = inventory;
        _caps = inventory.Caps;
        _policy = policy;
    }

    public static AllocationResult Assign(DomainDefinition domain, QemuCapabilities caps, AllocationPolicy policy)
    {
        return Assign(new DomainInventory(domain, caps ?? QemuCapabilities.Latest, policy.Profile), policy);
    }

    /// <summary>Allocates on an inventory the caller built (and read keys from) with the policy's profile; the inventory is used up.</summary>
    public static AllocationResult Assign(DomainInventory inventory, AllocationPolicy policy)
    {
        inventory.ApplyPins(policy.Pins);
        return new LibvirtAllocator(inventory, policy).Run();
    }

    /// <summary>qemuDomainAssignPCIAddresses: a dry run that learns which buses to add, then the real one.</summary>
    private AllocationResult Run()
    {
        var added = new List<PlannedDevice>(_inv.Implicit);
        FillConnectFlags();
        int nbuses = AddBusesTheDryRunNeeds(added);

        // Pass 2: the real assignment; nothing may grow any more.
        var set = CreateSet(nbuses, dryRun: false);
        Guard(null, () => ValidateChipset(set));
        AssignSlots(set);
        SetAllMultifunction();
        var (targets, modelNames) = ControllerDefaults();
        foreach (var c in added.Where(c => c.IsPciController && c.Index > 0))
            c.Reason = DescribeAddedBus(c) + "; placed at the " + c.Reason;
        return new AllocationResult { Inventory = _inv, Added = added, ControllerTargets = targets, ControllerModelNames = modelNames, ReusedReleased = set.ReusedReleased };
    }

    /// <summary>Pass 1: a dry run, only to learn how many buses (and which models) are needed; adds them. Returns the bus count.</summary>
    private int AddBusesTheDryRunNeeds(List<PlannedDevice> added)
    {
        int maxIdx = _inv.Controllers.Where(c => c.IsPciController).Select(c => c.Index).DefaultIfEmpty(-1).Max();
        var dry = CreateSet(maxIdx + 1, dryRun: true);
        Guard(null, () => ValidateChipset(dry));
        if (_inv.Family == MachineFamily.I440fx && !dry.Buses.All(b => b.IsFullyReserved))
            ReserveNextOrRefuse(dry, null, ConnectFlags.AutoAssign | ConnectFlags.PciDevice); // room for a future pci-bridge
        AssignSlots(dry);
        if (_policy.SparePorts is { } spares)
        {
            // Phantom PCIe endpoints fill empty root ports first, then make the dry run append new ones.
            if (_inv.Family == MachineFamily.Q35)
                for (int i = 0; i < spares; i++)
                    ReserveNextOrRefuse(dry, null, ConnectFlags.AutoAssign | ConnectFlags.PcieDevice | ConnectFlags.Hotpluggable);
        }
        else if (maxIdx <= 0 && dry.Count > maxIdx + 1 && _inv.Family == MachineFamily.Q35)
            ReserveNextOrRefuse(dry, null, ConnectFlags.AutoAssign | ConnectFlags.PcieDevice); // one spare hotplug root port
        for (int i = 1; i < dry.Count; i++)
        {
            if (_inv.Controllers.Any(c => c.IsPciController && c.Index == i)) continue;
            var model = dry.Buses[i].Model!.Value;
            var c = new PlannedDevice
            {
                Kind = "controller",
                Key = ControllerKey.Pci(i),
                ControllerType = "pci",
                Index = i,
                Model = model.XmlName(),
                PciModel = model,
                Reason = "",
            };
            c.Flags = model.PlugFlags();
            _inv.AddControllerAsLibvirtDoes(c);
            added.Add(c);
            if (model is not (PciControllerModel.PciRoot or PciControllerModel.PcieRoot))
                ReserveNextOrRefuse(dry, c, c.Flags);
        }
        return dry.Count;
    }

    /// <summary>qemuDomainPCIControllerSetDefaults: each PCI controller's model name and target attributes, as libvirt fills them.</summary>
    private (Dictionary<PlannedDevice, IReadOnlyList<(string, string)>> Targets, Dictionary<PlannedDevice, string> ModelNames) ControllerDefaults()
    {
        var targets = new Dictionary<PlannedDevice, IReadOnlyList<(string, string)>>();
        var modelNames = new Dictionary<PlannedDevice, string>();
        foreach (var c in _inv.Controllers.Where(c => c.IsPciController))
        {
            var model = c.PciModel!.Value;
            if (c.Source?.Element.Element("model")?.Attr("name") is null && model.DefaultModelName(_caps) is { } name)
                modelNames[c] = name;
            var t = ControllerTargetDefaults(c, model);
            if (t.Count > 0) targets[c] = t;
            if (model == PciControllerModel.PciBridge && c.IsPciPresent && c.Index <= c.Pci.Bus)
                throw _inv.Refuse(c, "LP216", $"PCI controller at index {c.Index} (0x{c.Index:x2}) has bus='0x{c.Pci.Bus:x2}', but index must be larger than bus");
        }
        return (targets, modelNames);
    }

    private string DescribeAddedBus(PlannedDevice c)
    {
        var users = _inv.IterationOrder().Where(d => d != c && d.IsPciPresent && d.Pci.Bus == c.Index).Select(d => d.Key).ToList();
        var what = c.PciModel switch
        {
            PciControllerModel.PcieRootPort => "libvirt gives each PCIe endpoint its own pcie-root-port",
            PciControllerModel.PcieToPciBridge => "conventional PCI devices on q35 need a pcie-to-pci-bridge",
            PciControllerModel.PciBridge => "bus 0 is full, so libvirt adds a pci-bridge",
            PciControllerModel.DmiToPciBridge => "conventional PCI devices on q35 need a dmi-to-pci-bridge (no pcie-pci-bridge in this QEMU)",
            _ => "added by libvirt's dry run",
        };
        return users.Count == 0 ? $"{what}; left empty for hotplug" : $"{what}; serves {string.Join(", ", users)}";
    }

    private List<(string, string)> ControllerTargetDefaults(PlannedDevice c, PciControllerModel model)
    {
        var target = c.Source?.Target;
        var list = new List<(string, string)>();
        switch (model)
        {
            case PciControllerModel.PciBridge when target?.Attr("chassisNr") is null:
                list.Add(("chassisNr", c.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                break;
            case PciControllerModel.PcieRootPort:
                if (target?.Attr("chassis") is null) list.Add(("chassis", c.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                if (target?.Attr("port") is null) list.Add(("port", $"0x{(c.Pci.Slot << 3) + c.Pci.Function:x}"));
                break;
            case PciControllerModel.PcieSwitchDownstreamPort:
                if (target?.Attr("chassis") is null) list.Add(("chassis", c.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                if (target?.Attr("port") is null) list.Add(("port", $"0x{c.Pci.Slot:x}"));
                break;
            case PciControllerModel.PciExpanderBus or PciControllerModel.PcieExpanderBus when target?.Attr("busNr") is null:
                int lowest = 256;
                foreach (var o in _inv.Controllers.Where(o => o.IsPciController && o != c))
                    if (o.Source?.Target?.Attr("busNr") is { } b && PciAddress.ParseNumber(b) is { } v && v < lowest) lowest = (int)v;
                if (lowest <= 2)
                    throw _inv.Refuse(c, "LP217", $"no free busNr lower than the current lowest busNr is available to auto-assign to bus {c.Pci.Bus}; set it by hand");
                list.Add(("busNr", (lowest - 2).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                break;
        }
        return list;
    }

    private void Guard(PlannedDevice? device, Action action)
    {
        try { action(); }
        catch (AddressingException e) { throw Refusal(device, e); }
    }

    // The per-device reservations, without a closure each (a 5,000-device domain makes 10,000).
    private void ReserveOrRefuse(PciAddressSet set, PlannedDevice? device, PciAddress address, ConnectFlags flags)
    {
        try { set.Reserve(address, flags, fromConfig: true); }
        catch (AddressingException e) { throw Refusal(device, e); }
    }

    private PciAddress ReserveNextOrRefuse(PciAddressSet set, PlannedDevice? device, ConnectFlags flags, int function = -1)
    {
        // (libvirt: a pci-bridge's index must be larger than its bus; first fit that finds a slot
        // only on its own bus or behind it would be refused, LP216, so it looks no further. Other
        // controllers have no such rule: libvirt 9.0 puts a pcie-to-pci-bridge with index 1 behind
        // the root port with index 2, measured on the daemon)
        int belowBus = !set.DryRun && device is { IsPciController: true, Index: > 0, PciModel: PciControllerModel.PciBridge } c ? c.Index : int.MaxValue;
        try { return set.ReserveNext(flags, function, belowBus); }
        catch (AddressingException e) { throw Refusal(device, e); }
    }

    /// <summary>libvirt's refusal, as an input error at the device (or the domain).</summary>
    private InputException Refusal(PlannedDevice? device, AddressingException e) =>
        device is null ? new InputException(_inv.Domain.Name, e.Code, e.Message, 0, 0) : _inv.Refuse(device, e.Code, $"{device.Key}: {e.Message}");

    // ---- connect flags (qemuDomainDeviceCalculatePCIConnectFlags) ----

    private void FillConnectFlags()
    {
        _pciFlags = ConnectFlags.PciDevice | ConnectFlags.AutoAssign;
        var root = _inv.Controllers.FirstOrDefault(c => c.IsPciController && c.Index == 0);
        _pcieFlags = root?.PciModel == PciControllerModel.PcieRoot ? ConnectFlags.PcieDevice | ConnectFlags.AutoAssign : _pciFlags;
        _virtioFlags = _caps.Has(_inv.Libvirt.Has(LibvirtBehaviour.VirtioPcieByTransitional) ? QemuCap.VirtioPciTransitional : QemuCap.VirtioPciDisableLegacy) ? _pcieFlags : _pciFlags;
        foreach (var d in _inv.IterationOrder()) d.Flags = FlagsOf(d);
    }

    private static readonly HashSet<string> KnownNetModels = new(StringComparer.Ordinal)
    {
        "netfront", "rtl8139", "virtio", "e1000", "e1000e", "virtio-transitional", "virtio-non-transitional", "usb-net",
        "spapr-vlan", "lan9118", "scm91c111", "vlance", "vmxnet", "vmxnet2", "vmxnet3", "Am79C970A", "Am79C973",
        "82540EM", "82545EM", "82543GC",
    };

    private ConnectFlags Virtio(string? model) => model == "virtio-transitional" ? _pciFlags : _virtioFlags;

    /// <summary>qemuDomainDeviceCalculatePCIConnectFlags: what a device plugs into, by its kind and model.</summary>
    private ConnectFlags FlagsOf(PlannedDevice d) => d.Kind switch
    {
        "controller" => ControllerFlags(d),
        "filesystem" => FilesystemFlags(d),
        "interface" => InterfaceFlags(d),
        "sound" when d.Model == "virtio" && _inv.Libvirt.Has(LibvirtBehaviour.VirtioSound) => _virtioFlags,
        "sound" => d.Model is "es1370" or "ac97" or "ich6" or "ich9" ? _pciFlags : ConnectFlags.None,
        "disk" => _inv.BusOf(d) == "virtio" ? Virtio(d.Model) : ConnectFlags.None,
        "hostdev" => HostdevFlags(d),
        "memballoon" => d.Model switch { "virtio-transitional" => _pciFlags, "virtio" or "virtio-non-transitional" => _virtioFlags, _ => ConnectFlags.None },
        "rng" => Virtio(d.Model),
        "watchdog" => d.Model == "i6300esb" ? _pciFlags : ConnectFlags.None,
        "video" => VideoFlags(d.Model),
        "shmem" => _pciFlags,
        "input" => d.Source?.Element.Attr("bus") == "virtio" ? Virtio(d.Model) : ConnectFlags.None,
        "serial" => d.Model == "pci-serial" ? _pciFlags : ConnectFlags.None,
        "iommu" => d.Model == "virtio" ? _virtioFlags | ConnectFlags.Integrated : ConnectFlags.None,
        "vsock" => d.Model == "virtio-transitional" ? _pciFlags : d.Model is "virtio" or "virtio-non-transitional" ? _virtioFlags : ConnectFlags.None,
        "memory" => d.Model is "virtio-pmem" or "virtio-mem" ? _virtioFlags : ConnectFlags.None,
        _ => ConnectFlags.None,
    };

    private ConnectFlags ControllerFlags(PlannedDevice d) => d.ControllerType switch
    {
        "pci" => d.PciModel?.PlugFlags() ?? ConnectFlags.None,
        "sata" or "ide" => _pciFlags,
        "usb" => d.Model switch
        {
            "nec-xhci" or "qemu-xhci" => _pcieFlags,
            "none" or "qusb1" or "qusb2" => ConnectFlags.None,
            _ => _pciFlags,
        },
        "scsi" => d.Model switch
        {
            null or "ncr53c90" => ConnectFlags.None,
            "virtio-scsi" or "virtio-non-transitional" => _virtioFlags,
            _ => _pciFlags,
        },
        "virtio-serial" => Virtio(d.Model),
        _ => ConnectFlags.None,
    };

    private ConnectFlags FilesystemFlags(PlannedDevice d)
    {
        var driver = d.Source?.Element.Element("driver")?.Attr("type");
        if (driver is "loop" or "nbd" or "ploop") return ConnectFlags.None;
        if (driver == "mtp" && _inv.Libvirt.Has(LibvirtBehaviour.MtpFilesystemOnUsb)) return ConnectFlags.None;
        return driver == "virtiofs" ? _virtioFlags : Virtio(d.Model);
    }

    private ConnectFlags InterfaceFlags(PlannedDevice d) => d.Type == "hostdev" ? HostdevFlags(d) : d.Model switch
    {
        "usb-net" => ConnectFlags.None,
        "virtio" or "virtio-non-transitional" => _virtioFlags,
        "virtio-transitional" => _pciFlags,
        "e1000e" => _pcieFlags,
        var m when m is null || !KnownNetModels.Contains(m) => _pcieFlags,
        _ => _pciFlags,
    };

    private ConnectFlags VideoFlags(string? model) => model switch
    {
        "virtio" => _virtioFlags,
        "vga" or "cirrus" or "vmvga" or "xen" or "vbox" or "qxl" or "parallels" => _pciFlags,
        "bochs" => _pcieFlags,
        _ => ConnectFlags.None,
    };

    private ConnectFlags HostdevFlags(PlannedDevice d)
    {
        var el = d.Source!.Element;
        // <interface type='hostdev'> is a PCI subsystem hostdev in libvirt's lists.
        var type = d.Kind == "interface" ? "pci" : el.Attr("type");
        var mode = d.Kind == "interface" ? "subsystem" : el.Attr("mode") ?? "subsystem";
        bool mdev = type == "mdev";
        if (!mdev && (mode != "subsystem" || type is not ("pci" or "scsi_host"))) return ConnectFlags.None;
        if (_pciFlags == _pcieFlags) return _pciFlags;
        if (d.Source.Address.IsPciPresent) return _pcieFlags;
        if (mdev) return _pcieFlags;
        if (type == "scsi_host") return Virtio(el.Attr("model"));
        // libvirt asks the host's sysfs whether the device is PCIe; offline we cannot, and
        // libvirt itself answers "PCIe" when the device is not on the host.
        return _pcieFlags;
    }

    // ---- the address set ----

    private PciAddressSet CreateSet(int nbuses, bool dryRun)
    {
        var set = new PciAddressSet(nbuses, dryRun, _caps.Has(QemuCap.PciePciBridge), _inv.Libvirt.Has(LibvirtBehaviour.RootPortForPcieToPciBridge));
        bool hasPcieRoot = false;
        foreach (var c in _inv.Controllers.Where(c => c.IsPciController))
        {
            if (c.PciModel is not { } model)
                throw _inv.Refuse(c, "LP208", $"PCI controller index='{c.Index}' has no known model (model='{c.Source?.Element.Attr("model")}')");
            set.Buses[c.Index].SetModel(model, !c.HotplugOff);
            hasPcieRoot |= model == PciControllerModel.PcieRoot;
        }
        if (nbuses > 0 && set.Buses[0].Model is null) set.Buses[0].SetModel(PciControllerModel.PciRoot, true);
        var gapModel = hasPcieRoot ? PciControllerModel.PcieRootPort : PciControllerModel.PciBridge;
        for (int i = 1; i < nbuses; i++)
            if (set.Buses[i].Model is null) set.Buses[i].SetModel(gapModel, true);
        foreach (var d in _inv.IterationOrder()) Collect(set, d);
        foreach (var a in _policy.Blocked) set.Block(a);
        set.RootPortFloor = _policy.RootPortFloor;
        return set;
    }

    /// <summary>qemuDomainCollectPCIAddress: reserve every address the XML already has.</summary>
    private void Collect(PciAddressSet set, PlannedDevice d)
    {
        if (!d.IsPciPresent) return;
        var flags = d.Flags == ConnectFlags.None ? ConnectFlags.PciDevice : d.Flags;
        if (d.Kind == "controller" && d.Pci is { Bus: 0, Slot: 1 })
        {
            // The PIIX3 IDE and USB functions are reserved with the chipset.
            bool piix3 = (d.ControllerType == "ide" && d.Index == 0 && d.Pci.Function == 1)
                || (d.ControllerType == "usb" && d.Index == 0 && d.Model is null or "piix3-uhci" && d.Pci.Function == 2);
            if (piix3)
            {
                if (set.Count > 0 && (set.Buses[0].Flags & ConnectFlags.PciDevice) == 0)
                    throw _inv.Refuse(d, "LP218", "bus 0 must be PCI for integrated PIIX3 USB or IDE controllers");
                return;
            }
        }
        ReserveOrRefuse(set, d, d.Pci, flags);
    }

    // ---- chipset reservations (qemuDomainValidateDevicePCISlotsChipsets) ----

    private void ValidateChipset(PciAddressSet set)
    {
        if (_inv.Family == MachineFamily.I440fx) ValidatePiix3(set);
        else if (_inv.Family == MachineFamily.Q35) ValidateQ35(set);
    }

    private void FixedChipsetAddress(PlannedDevice c, PciAddress fixedAt, string error, string reason)
    {
        if (c.IsPciPresent)
        {
            if (c.Pci != fixedAt) throw _inv.Refuse(c, "LP219", error);
        }
        else
        {
            c.SetAddress(fixedAt, reason);
        }
    }

    private void ValidatePiix3(PciAddressSet set)
    {
        var flags = ConnectFlags.AutoAssign | ConnectFlags.PciDevice;
        foreach (var c in _inv.Controllers)
        {
            if (c.ControllerType == "ide" && c.Index == 0)
                FixedChipsetAddress(c, Chipset.ForController(MachineFamily.I440fx, "ide")!.Address, "the primary IDE controller must have PCI address 0000:00:01.1", "the PIIX3 IDE function of the pc chipset");
            else if (c.ControllerType == "usb" && c.Index == 0 && c.Model is null or "piix3-uhci")
                FixedChipsetAddress(c, Chipset.ForController(MachineFamily.I440fx, "usb")!.Address, "the PIIX3 USB controller at index 0 must have PCI address 0000:00:01.2", "the PIIX3 USB function of the pc chipset");
            else continue;
            if (set.Count > 0) ReserveOrRefuse(set, c, c.Pci, flags);
        }
        if (set.Count > 0) ReserveChipsetFunctions(set, flags);
        PrimaryVideo(set, 2, flags);
    }

    private void ValidateQ35(PciAddressSet set)
    {
        var flags = ConnectFlags.PcieDevice;
        foreach (var c in _inv.Controllers)
        {
            if (c.ControllerType == "sata" && c.Index == 0)
            {
                FixedChipsetAddress(c, Chipset.ForController(MachineFamily.Q35, "sata")!.Address, "the primary SATA controller must have PCI address 0000:00:1f.2", "the ICH9 AHCI function of the q35 chipset");
            }
            else if (c.ControllerType == "usb" && c.Model == "ich9-uhci1" && c.AddressType is null)
            {
                int slot = !set.Buses[0].SlotInUse(0x1d) ? 0x1d : !set.Buses[0].SlotInUse(0x1a) ? 0x1a : -1;
                if (slot < 0) continue;
                var a = new PciAddress(0, slot, 0);
                ReserveOrRefuse(set, c, a, flags);
                c.SetAddress(a, $"the ICH9 USB slot 00:{slot:x2} of the q35 chipset");
                c.Multifunction = true;
            }
            else if (c.IsPciController && c.PciModel == PciControllerModel.DmiToPciBridge && c.AddressType is null)
            {
                if (set.Buses[0].SlotInUse(0x1e)) continue;
                var a = new PciAddress(0, 0x1e, 0);
                ReserveOrRefuse(set, c, a, flags);
                c.SetAddress(a, "the DMI-to-PCI bridge slot 00:1e of the q35 chipset");
            }
        }
        if (set.Count > 0) ReserveChipsetFunctions(set, flags);
        PrimaryVideo(set, 1, flags);
        if (!set.Buses[0].SlotInUse(0x1b))
        {
            var sound = _inv.Sounds.FirstOrDefault(s => s.Model == "ich9" && s.IsPciWanted);
            if (sound is not null)
            {
                var a = new PciAddress(0, 0x1b, 0);
                ReserveOrRefuse(set, sound, a, flags);
                sound.SetAddress(a, "the HD-audio slot 00:1b of the q35 chipset");
            }
        }
    }

    /// <summary>Reserves the functions the chipset itself occupies (those no controller of the domain is).</summary>
    private void ReserveChipsetFunctions(PciAddressSet set, ConnectFlags flags)
    {
        foreach (var f in Chipset.Functions(_inv.Family))
            if (f.Controller is null) ReserveChipset(set, f.Address, flags, f.Name);
    }

    /// <summary>Reserves a function the chipset itself occupies; a device written there gets libvirt's refusal, in words.</summary>
    private void ReserveChipset(PciAddressSet set, PciAddress addr, ConnectFlags flags, string what)
    {
        try
        {
            set.Reserve(addr, flags, true);
        }
        catch (AddressingException e)
        {
            var squatter = _inv.IterationOrder().FirstOrDefault(d => d.IsPciPresent && d.Pci == addr);
            if (squatter is null) throw new InputException(_inv.Domain.Name, e.Code, e.Message);
            var machine = _inv.Family == MachineFamily.Q35 ? "q35" : "pc";
            throw _inv.Refuse(squatter, "LP223", $"{squatter.Key}: PCI address {addr} is reserved for {what} on {machine}; libvirt refuses it (\"Attempted double use of PCI Address\")");
        }
    }

    private void PrimaryVideo(PciAddressSet set, int slot, ConnectFlags flags)
    {
        if (_inv.Videos.Count == 0 || _inv.Videos[0].Model is "none" or "ramfb")
        {
            // a QEMU whose -device cannot be the primary video needs the slot kept for a later one
            if (!_inv.Libvirt.Has(LibvirtBehaviour.VideoPrimaryAssumed) && !_caps.Has(QemuCap.VideoPrimary) && !set.Buses[0].SlotInUse(slot))
                set.Reserve(new PciAddress(0, slot, 0), flags, true);
            return;
        }
        var video = _inv.Videos[0];
        if (!video.IsPciWanted) return;
        var a = new PciAddress(0, slot, 0);
        Guard(video, () => set.ValidateOnly(a, flags, true));
        if (set.Buses[0].SlotInUse(slot))
        {
            ReserveNext(set, video, $"slot 00:{slot:x2} (the primary video slot) is taken");
        }
        else
        {
            ReserveOrRefuse(set, video, a, flags);
            video.SetAddress(a, $"the primary video's slot on {(_inv.Family == MachineFamily.Q35 ? "q35" : "pc")}");
        }
    }

    // ---- assignment (qemuDomainAssignDevicePCISlots) ----

    private void ReserveNext(PciAddressSet set, PlannedDevice d, string? why = null, int function = -1)
    {
        if ((d.Flags & ConnectFlags.TypesMask) == 0)
            throw _inv.Refuse(d, "LP221", $"{d.Key}: libvirt cannot give this device a PCI address (model '{d.Model}' does not sit on PCI here); remove its <address type='pci'/>");
        var addr = ReserveNextOrRefuse(set, d, d.Flags, function);
        if (set.DryRun) return;
        if (why is not null) d.SetAddress(addr, why);
        else
        {
            var (bus, flags) = (set.Buses[addr.Bus].Model?.XmlName() ?? "bus", d.Flags); // as they are now
            d.SetAddress(addr, () => $"first free slot for a {PciControllerModels.Describe(flags)} (libvirt first-fit from bus 0): {bus} index {addr.Bus}");
        }
    }

    private void AssignSlots(PciAddressSet set)
    {
        foreach (var c in _inv.Controllers)
            if (c.IsPciController && c.PciModel is not (PciControllerModel.PciRoot or PciControllerModel.PcieRoot) && c.IsPciWanted)
                ReserveNext(set, c);
        foreach (var d in _inv.Filesystems.Where(d => d.IsPciWanted && !IsUsbDevice(d))) ReserveNext(set, d);
        foreach (var d in _inv.Nets.Where(d => d.IsPciWanted && !IsUsbDevice(d))) ReserveNext(set, d);
        foreach (var d in _inv.Sounds.Where(d => d.IsPciWanted && d.Model is not ("sb16" or "pcspk" or "usb"))) ReserveNext(set, d);
        foreach (var c in _inv.Controllers)
        {
            if (c.IsPciController || !c.IsPciWanted) continue;
            if (c.ControllerType == "usb" && c.Model == "none") continue;
            if (c.ControllerType is "fdc" or "ccid") continue;
            if (c.ControllerType == "ide" && c.Index == 0) continue;
            if (c.ControllerType == "scsi" && c.Model == "ncr53c90") continue;
            if (c.ControllerType is not ("usb" or "sata" or "ide" or "scsi" or "virtio-serial")) continue;
            if (c.ControllerType == "usb" && DomainDefinition.IsIch9Usb2Model(c.Model))
                AssignUsb2Companion(set, c);
            else
                ReserveNext(set, c);
        }
        foreach (var d in _inv.Disks)
        {
            if (_inv.BusOf(d) != "virtio") continue;
            if (d.IsPciPresent || d.AddressType is "ccw" or "virtio-mmio") continue;
            if (!d.IsPciWanted)
                throw _inv.Refuse(d, "LP222", $"virtio disk cannot have an address of type '{d.AddressType}'");
            ReserveNext(set, d);
        }
        foreach (var d in _inv.Hostdevs)
        {
            if (!d.IsPciWanted) continue;
            var el = d.Source!.Element;
            if (d.Kind == "hostdev" && (el.Attr("mode") ?? "subsystem") != "subsystem") continue;
            var type = el.Attr("type");
            bool isHostdev = d.Kind == "interface" || type is "pci" or "scsi_host" || (type == "mdev" && el.Attr("model") == "vfio-pci");
            if (!isHostdev || d.AddressType == "unassigned") continue;
            ReserveNext(set, d);
        }
        if (_inv.Memballoon is { } balloon && balloon.Model is not ("none" or "xen") && balloon.IsPciWanted) ReserveNext(set, balloon);
        foreach (var d in _inv.Rngs.Where(d => d.IsPciWanted)) ReserveNext(set, d);
        foreach (var d in _inv.Watchdogs.Take(_inv.Libvirt.Has(LibvirtBehaviour.MultipleWatchdogs) ? int.MaxValue : 1).Where(d => d.Model == "i6300esb" && d.IsPciWanted)) ReserveNext(set, d);
        foreach (var d in _inv.Videos.Where(d => d.Model is not ("none" or "ramfb") && d.IsPciWanted)) ReserveNext(set, d);
        foreach (var d in _inv.Shmems.Where(d => d.IsPciWanted)) ReserveNext(set, d);
        foreach (var d in _inv.Inputs.Where(d => d.Source?.Element.Attr("bus") == "virtio" && d.IsPciWanted)) ReserveNext(set, d);
        foreach (var d in _inv.Serials.Where(d => d.Model == "pci-serial" && d.IsPciWanted)) ReserveNext(set, d);
        foreach (var d in _inv.Iommus.Where(d => d.Model == "virtio" && d.IsPciWanted)) ReserveNext(set, d);
        foreach (var d in _inv.Vsocks.Take(1).Where(d => d.IsPciWanted)) ReserveNext(set, d);
        foreach (var d in _inv.Memories.Where(d => d.Model is "virtio-pmem" or "virtio-mem" && d.IsPciWanted)) ReserveNext(set, d);
    }

    /// <summary>Devices the profile's libvirt puts on USB (a usb-net NIC, an mtp filesystem): no PCI address.</summary>
    private bool IsUsbDevice(PlannedDevice d) =>
        (d.Kind == "interface" && d.Model == "usb-net" && _inv.Libvirt.Has(LibvirtBehaviour.UsbNetOnUsb))
        || (d.Kind == "filesystem" && d.Source?.Element.Element("driver")?.Attr("type") == "mtp" && _inv.Libvirt.Has(LibvirtBehaviour.MtpFilesystemOnUsb));

    /// <summary>ICH9 USB2 sets share one slot: ehci1 at function 7, uhci1..3 at functions 0..2.</summary>
    private void AssignUsb2Companion(PciAddressSet set, PlannedDevice c)
    {
        var (fn, multi) = c.Model switch
        {
            "ich9-ehci1" => (7, (bool?)null),
            "ich9-uhci1" => (0, true),
            "ich9-uhci2" => (1, null),
            _ => (2, null),
        };
        var sibling = _inv.Controllers.FirstOrDefault(o => o.ControllerType == "usb" && o.Index == c.Index
            && DomainDefinition.IsIch9Usb2Model(o.Model) && o.IsPciPresent);
        if (sibling is not null)
        {
            var a = sibling.Pci with { Function = fn };
            ReserveOrRefuse(set, c, a, c.Flags);
            c.SetAddress(a, $"function {fn} of the USB2 set at {sibling.Pci with { Function = 0 }}");
            c.Multifunction = multi;
        }
        else
        {
            ReserveNext(set, c, "first free slot for the USB2 controller set", fn);
            c.Multifunction = multi;
        }
    }

    /// <summary>virDomainPCIAddressSetAllMulti: function 0 of a slot with other functions in use gets multifunction='on'.</summary>
    private void SetAllMultifunction()
    {
        var all = _inv.IterationOrder().Where(d => d.IsPciPresent).ToList();
        var byAddress = new Dictionary<PciAddress, PlannedDevice>(all.Count);
        foreach (var d in all) byAddress.TryAdd(d.Pci, d);
        foreach (var d in all)
        {
            if (d.Pci.Function == 0) continue;
            if (byAddress.TryGetValue(d.Pci with { Function = 0 }, out var f0) && f0.Multifunction is null)
                f0.Multifunction = true;
        }
    }
}
