using LibvirtPci.Domain;

namespace LibvirtPci.Addressing;

/// <summary>Why libvirt would refuse an address or a topology (becomes an LP error at the device).</summary>
public sealed class AddressingException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>One PCI bus: what plugs into it, its slot range, and which functions are taken.</summary>
public sealed class PciBus
{
    public PciControllerModel? Model { get; private set; }
    public ConnectFlags Flags { get; set; }
    public int MinSlot { get; private set; }
    public int MaxSlot { get; private set; } = PciAddress.MaxSlot;
    internal readonly byte[] Functions = new byte[PciAddress.MaxSlot + 1];
    internal readonly bool[] Aggregate = new bool[PciAddress.MaxSlot + 1];
    /// <summary>No slot below this one is completely free (slots are never freed within a set).</summary>
    private int _lowestFreeHint;

    public void SetModel(PciControllerModel model, bool hotplug)
    {
        Model = model;
        (Flags, MinSlot, MaxSlot) = model.BusRules(hotplug);
        _lowestFreeHint = MinSlot;
    }

    internal void Take(int slot, int function)
    {
        Functions[slot] |= (byte)(1 << function);
    }

    internal void Untake(int slot, int function) => Functions[slot] &= (byte)~(1 << function);

    /// <summary>The lowest completely free slot, or -1: keeps first-fit linear over a domain's devices.</summary>
    internal int LowestFreeSlot()
    {
        while (_lowestFreeHint <= MaxSlot && Functions[_lowestFreeHint] != 0) _lowestFreeHint++;
        return _lowestFreeHint <= MaxSlot ? _lowestFreeHint : -1;
    }

    public bool IsEmpty
    {
        get
        {
            for (int s = MinSlot; s <= MaxSlot; s++) if (Functions[s] != 0) return false;
            return true;
        }
    }

    public bool IsFullyReserved
    {
        get
        {
            for (int s = MinSlot; s <= MaxSlot; s++) if (Functions[s] == 0) return false;
            return true;
        }
    }

    public bool SlotInUse(int slot) => Functions[slot] != 0;
}

/// <summary>
/// libvirt's virDomainPCIAddressSet for x86: buses indexed by controller index, first-fit
/// search from bus 0, root-port aggregation, and (in a dry run) growth by adding buses.
/// </summary>
public sealed class PciAddressSet
{
    private readonly List<PciBus> _buses = new();
    private int _firstNotFullBus;
    // Released addresses (the ledger's): taken like a device's, given out only when nothing else is left.
    private readonly SortedSet<PciAddress> _released = new();
    private readonly List<PciAddress> _reused = new();

    /// <summary>Released addresses that had to be given to a device because nothing else was left (first-fit order).</summary>
    public IReadOnlyList<PciAddress> ReusedReleased => _reused;

    public PciAddressSet(int busCount, bool dryRun, bool pcieToPciBridgeSupported, bool rootPortForPcieToPciBridge = false)
    {
        for (int i = 0; i < busCount; i++) _buses.Add(new PciBus());
        DryRun = dryRun;
        PcieToPciBridgeSupported = pcieToPciBridgeSupported;
        RootPortForPcieToPciBridge = rootPortForPcieToPciBridge;
    }

    /// <summary>The dry run adds a root port for a pcie-to-pci-bridge that finds no slot (<see cref="LibvirtBehaviour.RootPortForPcieToPciBridge"/>).</summary>
    public bool RootPortForPcieToPciBridge { get; }

    public bool DryRun { get; }

    /// <summary>Bound on buses a dry run may add (libvirt has none; QEMU's guest has 256 bus numbers).</summary>
    public const int MaxBuses = 1024;

    /// <summary>
    /// Stability rule "root ports are only appended": no new pcie-root-port may take a bus-0
    /// address below this one (a port inserted before existing ones renumbers every guest bus
    /// after it). Null: libvirt's plain first-fit.
    /// </summary>
    public PciAddress? RootPortFloor { get; set; }

    /// <summary>
    /// Marks a function as taken without a device (a released address kept from reuse; the last
    /// resort of a search that finds nothing else). Silently ignores addresses on buses or slots
    /// this set does not have, and functions already taken.
    /// </summary>
    public void Block(PciAddress addr)
    {
        if (addr.Domain != 0 || addr.Bus >= _buses.Count) return;
        var bus = _buses[addr.Bus];
        if (addr.Slot < bus.MinSlot || addr.Slot > bus.MaxSlot || (bus.Functions[addr.Slot] & (1 << addr.Function)) != 0) return;
        bus.Take(addr.Slot, addr.Function);
        _released.Add(addr);
    }

    /// <summary>
    /// The first released address (first-fit order, on a bus below <paramref name="belowBus"/>) a
    /// device with these flags may take: its slot must hold nothing but released functions, or, for
    /// a device that shares slots (root ports), be a slot of such devices. Null when there is none.
    /// </summary>
    private PciAddress? ReuseReleased(ConnectFlags flags, int belowBus)
    {
        bool aggregate = (flags & ConnectFlags.AggregateSlot) != 0;
        foreach (var a in _released)
        {
            if (a.Bus >= Math.Min(_buses.Count, belowBus)) break;
            var bus = _buses[a.Bus];
            if (Check(a.Bus, bus.Flags, flags, fromConfig: false) != Mismatch.None) continue;
            int releasedHere = 0;
            foreach (var r in _released.GetViewBetween(a with { Function = 0 }, a with { Function = 7 })) releasedHere |= 1 << r.Function;
            bool onlyReleased = (bus.Functions[a.Slot] & ~releasedHere) == 0;
            if (!onlyReleased && !(aggregate && bus.Aggregate[a.Slot])) continue;
            if (aggregate && !onlyReleased)
            {
                bus.Untake(a.Slot, a.Function); // one function of a slot of root ports
                _released.Remove(a);
                _reused.Add(a);
                return a;
            }
            for (int f = 0; f < 8; f++)
                if ((releasedHere & (1 << f)) != 0)
                {
                    bus.Untake(a.Slot, f); // the whole slot: it held only released functions
                    _released.Remove(a with { Function = f });
                }
            var slot = a with { Function = aggregate ? a.Function : 0 };
            _reused.Add(slot);
            return slot;
        }
        return null;
    }
    public bool PcieToPciBridgeSupported { get; }
    public IReadOnlyList<PciBus> Buses => _buses;
    public int Count => _buses.Count;

    private enum Mismatch { None, NotIntegrated, NoAutoAssign, NoHotplug, WrongType }

    /// <summary>virDomainPCIAddressFlagsCompatible, without building messages (it runs for every bus of every search).</summary>
    private static Mismatch Check(int bus, ConnectFlags busFlags, ConnectFlags devFlags, bool fromConfig)
    {
        if ((devFlags & ConnectFlags.Integrated) != 0)
        {
            if (bus == 0) busFlags |= ConnectFlags.AutoAssign;
            else return Mismatch.NotIntegrated;
        }
        if (fromConfig)
        {
            // A hand-written address may put a PCI device on a PCIe slot and vice versa.
            if ((busFlags & ConnectFlags.Endpoint) != 0) busFlags |= ConnectFlags.Endpoint;
            if ((devFlags & ConnectFlags.PciBridge) != 0) devFlags |= ConnectFlags.PciDevice;
        }
        else if ((devFlags & ConnectFlags.AutoAssign) != 0 && (busFlags & ConnectFlags.AutoAssign) == 0)
        {
            return Mismatch.NoAutoAssign;
        }
        if ((devFlags & ConnectFlags.Hotpluggable) != 0 && (busFlags & ConnectFlags.Hotpluggable) == 0)
            return Mismatch.NoHotplug;
        return (devFlags & busFlags & ConnectFlags.TypesMask) == 0 ? Mismatch.WrongType : Mismatch.None;
    }

    /// <summary>Why a device with these flags may not sit at this address, in libvirt's words; null if it may.</summary>
    public static string? Incompatibility(PciAddress addr, ConnectFlags busFlags, ConnectFlags devFlags, bool fromConfig) =>
        Check(addr.Bus, busFlags, devFlags, fromConfig) switch
        {
            Mismatch.NotIntegrated => $"the device at PCI address {addr} needs to be an integrated device (bus=0)",
            Mismatch.NoAutoAssign => $"the PCI controller with index='{addr.Bus}' does not allow auto-assignment",
            Mismatch.NoHotplug => $"the device at PCI address {addr} requires hotplug capability, but the PCI controller with index='{addr.Bus}' doesn't support hotplug",
            Mismatch.WrongType => $"the device at PCI address {addr} cannot be plugged into the PCI controller with index='{addr.Bus}': it requires a controller that accepts a {PciControllerModels.Describe(devFlags)}",
            _ => null,
        };

    private void Validate(PciAddress addr, ConnectFlags flags, bool fromConfig)
    {
        if (addr.Domain != 0)
            throw new AddressingException("LP211", $"invalid PCI address {addr}: only PCI domain 0 is available");
        if (addr.Bus >= _buses.Count)
            throw new AddressingException("LP212", $"invalid PCI address {addr}: only PCI buses up to {_buses.Count - 1} are available (no PCI controller with index='{addr.Bus}')");
        var bus = _buses[addr.Bus];
        var why = Incompatibility(addr, bus.Flags, flags, fromConfig);
        if (why is not null) throw new AddressingException("LP213", why);
        if (bus.MinSlot > 0 && addr.Slot < bus.MinSlot)
            throw new AddressingException("LP214", $"invalid PCI address {addr}: slot must be >= {bus.MinSlot}");
        if (addr.Slot > bus.MaxSlot)
            throw new AddressingException("LP214", $"invalid PCI address {addr}: slot must be <= {bus.MaxSlot} on a {bus.Model?.XmlName()}");
    }

    public void ValidateOnly(PciAddress addr, ConnectFlags flags, bool fromConfig) => Validate(addr, flags, fromConfig);

    /// <summary>virDomainPCIAddressReserveAddrInternal.</summary>
    public void Reserve(PciAddress addr, ConnectFlags flags, bool fromConfig)
    {
        if (DryRun) Grow(ref addr, flags);
        Validate(addr, flags, fromConfig);
        var bus = _buses[addr.Bus];
        if ((bus.Functions[addr.Slot] & (1 << addr.Function)) != 0)
            throw new AddressingException("LP215", $"PCI address {addr} is used twice");
        if (bus.Functions[addr.Slot] == 0 && (flags & ConnectFlags.AggregateSlot) != 0)
            bus.Aggregate[addr.Slot] = true;
        bus.Take(addr.Slot, addr.Function);
    }

    /// <summary>virDomainPCIAddressReserveNextAddr: first fit from bus 0; in a dry run, add a bus when nothing fits.</summary>
    /// <param name="belowBus">only buses with a lower index (a PCI controller never sits on its own bus or behind it)</param>
    public PciAddress ReserveNext(ConnectFlags flags, int function = -1, int belowBus = int.MaxValue)
    {
        var addr = NextFree(flags, function, belowBus);
        Reserve(addr, flags, fromConfig: false);
        return addr;
    }

    private PciAddress NextFree(ConnectFlags flags, int function, int belowBus)
    {
        int fn = function == -1 ? 0 : function;
        int first = 0;
        if ((flags & ConnectFlags.AggregateSlot) == 0)
        {
            // Such a search needs a completely free slot, which a full bus never has again (slots
            // are never freed and a bus's model is set once): skip the full buses at the front,
            // so that first fit stays linear over thousands of devices behind bridges.
            while (_firstNotFullBus < _buses.Count && _buses[_firstNotFullBus].Model is not null && _buses[_firstNotFullBus].LowestFreeSlot() < 0)
                _firstNotFullBus++;
            first = _firstNotFullBus;
        }
        for (int b = first; b < Math.Min(_buses.Count, belowBus); b++)
        {
            if (FindOnBus(b, flags, function, ref fn) is { } slot)
                return new PciAddress(b, slot, fn);
        }
        // libvirt's second pass (empty buses of another isolation group) never differs on x86.
        // Nothing free: a released address is the last resort, before growing where growing is
        // possible (the dry run), instead of failing where it is not.
        if (!DryRun)
            return ReuseReleased(flags, belowBus) ?? throw new AddressingException("LP220", $"no more available PCI slots for a {PciControllerModels.Describe(flags)}");
        if (!CanGrowFor(flags) && ReuseReleased(flags, belowBus) is { } reused) return reused;
        var grown = new PciAddress(_buses.Count, 0, fn);
        Grow(ref grown, flags);
        return grown with { Slot = _buses[grown.Bus].MinSlot };
    }

    /// <summary>
    /// A free slot on the bus, above <see cref="RootPortFloor"/> for a new root port on bus 0; when
    /// nothing is free above the floor (a bridge at 00:1e.0, say), anywhere on the bus, as libvirt
    /// would: the port is needed, and the ledger's findings say what the guest sees move.
    /// </summary>
    private int? FindOnBus(int busIndex, ConnectFlags flags, int function, ref int fn)
    {
        int start = fn;
        if (FindOnBus(busIndex, flags, function, ref fn, useFloor: true) is { } slot) return slot;
        if (busIndex != 0 || RootPortFloor is null || (flags & ConnectFlags.PcieRootPort) == 0) return null;
        fn = start;
        return FindOnBus(busIndex, flags, function, ref fn, useFloor: false);
    }

    private int? FindOnBus(int busIndex, ConnectFlags flags, int function, ref int fn, bool useFloor)
    {
        var bus = _buses[busIndex];
        if (Check(busIndex, bus.Flags, flags, fromConfig: false) != Mismatch.None)
            return null;
        if ((flags & ConnectFlags.AggregateSlot) == 0)
        {
            // Without aggregation only a completely free slot will do: the lowest one is the answer.
            int free = bus.LowestFreeSlot();
            return free < 0 ? null : free;
        }
        bool floorApplies = useFloor && busIndex == 0 && RootPortFloor is { } floor && (flags & ConnectFlags.PcieRootPort) != 0;
        for (int slot = bus.MinSlot; slot <= bus.MaxSlot; slot++)
        {
            if (floorApplies && slot < RootPortFloor!.Value.Slot) continue;
            if (floorApplies && slot == RootPortFloor!.Value.Slot && RootPortFloor.Value.Function > 0)
            {
                // Only functions at or above the floor, in a slot that already aggregates root ports
                // and has its function 0 (a guest does not scan a slot whose function 0 is empty).
                if ((bus.Functions[slot] & 1) == 0 || !bus.Aggregate[slot]) continue;
                for (int f = Math.Max(fn, RootPortFloor.Value.Function); f < 8; f++)
                    if ((bus.Functions[slot] & (1 << f)) == 0) { fn = f; return slot; }
                fn = 0;
                continue;
            }
            if (bus.Functions[slot] == 0) return slot;
            if ((flags & ConnectFlags.AggregateSlot) != 0 && bus.Aggregate[slot])
            {
                if ((bus.Functions[slot] & (1 << fn)) == 0) return slot;
                if (function == -1)
                {
                    for (; fn < 8; fn++)
                        if ((bus.Functions[slot] & (1 << fn)) == 0) return slot;
                    fn = 0;
                }
            }
        }
        return null;
    }

    /// <summary>Whether <see cref="Grow"/> can add a bus for a device with these flags (a PCI device: a bridge; a PCIe one: a root port).</summary>
    private bool CanGrowFor(ConnectFlags flags) => (flags & RootPortTypes) != 0 || (flags & ConnectFlags.PciDevice) != 0;

    /// <summary>What a new pcie-root-port is added for.</summary>
    private ConnectFlags RootPortTypes => ConnectFlags.PcieDevice | ConnectFlags.PcieSwitchUpstreamPort | (RootPortForPcieToPciBridge ? ConnectFlags.PcieToPciBridge : 0);

    /// <summary>Added buses, in the order the dry run needed them (virDomainPCIAddressSetGrow).</summary>
    private void Grow(ref PciAddress addr, ConnectFlags flags)
    {
        int add = addr.Bus - _buses.Count + 1;
        if (add <= 0) return;
        // A PCI domain has 256 bus numbers; far past that the input is hostile, not a VM: stop
        // before the first-fit search (linear in buses per device) gets slow.
        if (_buses.Count + add > MaxBuses)
            throw new AddressingException("LP224", $"the devices would need more than {MaxBuses} PCI buses (a PCI domain has 256 bus numbers)");
        PciControllerModel model;
        bool needDmi = false, needPcieToPci = false;
        if ((flags & ConnectFlags.PciDevice) != 0)
        {
            model = PciControllerModel.PciBridge;
            bool anyBridgeBus = _buses.Any(b => (b.Flags & ConnectFlags.PciBridge) != 0);
            if (!anyBridgeBus)
            {
                if (PcieToPciBridgeSupported) needPcieToPci = true; else needDmi = true;
                if (add == 1)
                {
                    // A pure PCIe topology: the PCI device needs a bridge behind one more controller.
                    add++;
                    addr = addr with { Bus = addr.Bus + 1 };
                }
            }
        }
        else if ((flags & RootPortTypes) != 0)
        {
            model = PciControllerModel.PcieRootPort;
        }
        else
        {
            var what = (flags & ConnectFlags.TypesMask) == 0 ? "a device that needs no PCI slot" : $"a {PciControllerModels.Describe(flags)}";
            throw new AddressingException("LP221",
                $"a PCI slot is needed to connect {what}, but none is available, and libvirt cannot add a controller for it automatically");
        }
        int first = _buses.Count;
        for (int k = 0; k < add; k++) _buses.Add(new PciBus());
        int i = first;
        if (needDmi) _buses[i++].SetModel(PciControllerModel.DmiToPciBridge, false);
        if (needPcieToPci)
        {
            // This root port only takes the bridge, so the spare-port logic cannot use it.
            _buses[i].SetModel(PciControllerModel.PcieRootPort, true);
            _buses[i++].Flags = ConnectFlags.PcieToPciBridge;
            _buses[i++].SetModel(PciControllerModel.PcieToPciBridge, true);
        }
        for (; i < _buses.Count; i++) _buses[i].SetModel(model, true);
    }
}
