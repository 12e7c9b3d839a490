using LibvirtPci.Addressing;
using LibvirtPci.Domain;

namespace LibvirtPci.Limits;

/// <summary>
/// The I/O space budget of a q35 domain (the "14 PCIe slots" problem), from the rules measured
/// with real QEMU boots (FirmwareGroundTruthTests, tools/qemu-boot-probe.sh). Never a fixed 14: the windows depend
/// on the firmware, the machine version, what sits behind each port and the io-reserve setting.
/// Pure: a parsed, addressed domain in, findings out.
/// </summary>
public static class IoSpaceBudget
{
    /// <summary>Hotplug bridge windows a Linux guest fits in its own I/O allocation.</summary>
    public const int LinuxWindows = 14;

    public static IoSpaceAnalysis? Analyze(DomainDefinition domain, FirmwareReleases releases)
    {
        if (domain.Family != MachineFamily.Q35) return null;
        var firmware = FirmwareProfile.For(domain.Firmware, releases);
        var machine = MachineProfile.Of(domain);
        var reserve = IoReserveSettings.Read(domain);
        var topology = Topology.Build(domain);
        var (ports, windows, losing) = RootPortNeeds(topology, firmware, machine, reserve);
        var budget = new Budget(firmware, machine, ports, windows,
            EmptyPadded: ports.Count(p => p.Empty && p.Hotplug && !p.IoReserveOff && !machine.EveryPortReservesIo),
            GlobalOff: reserve.Global);
        var findings = new List<Finding>();
        var (bootFails, barsUnset) = firmware.Firmware == Firmware.SeaBios ? SeaBiosVerdict(budget, findings) : OvmfVerdict(budget, findings);
        int hotplugPorts = ports.Count(p => p.Hotplug && !p.IoReserveOff && !(machine.EveryPortReservesIo && p.Empty));
        int guestShort = Math.Max(0, hotplugPorts - LinuxWindows);
        findings.AddRange(GuestFindings(machine, ports, losing, bootFails ? 0 : guestShort, hotplugPorts));
        findings.AddRange(BusNumberFindings(domain, topology.GuestBuses));

        return new IoSpaceAnalysis
        {
            Firmware = firmware,
            Machine = machine,
            Ports = ports,
            WindowsNeeded = windows,
            EmptyPaddedPorts = budget.EmptyPadded,
            HotplugPorts = hotplugPorts,
            DevicesLosingIo = losing,
            BootFails = bootFails,
            FirmwareLeavesBarsUnset = barsUnset,
            PortsWithoutIoInGuest = bootFails ? 0 : guestShort,
            Findings = findings,
        };
    }

    /// <summary>What the firmware must place: D bridge windows against its budget (the rest of the analysis reads these).</summary>
    private sealed record Budget(FirmwareProfile Firmware, MachineProfile Machine, IReadOnlyList<PortIoNeed> Ports, int Windows, int EmptyPadded, bool GlobalOff)
    {
        public int Available => Firmware.BridgeWindows;

        public string Arithmetic(int need) =>
            $"{need} bridge I/O windows × 4 KiB = {need * 4} KiB > {Available * 4} KiB {Firmware.Name} can give bridges ({Firmware.Range} = {Firmware.Windows * 4} KiB, 4 KiB of it taken by the chipset's own I/O BARs)";
    }

    private const string Fix = "give devices behind root ports models without I/O BARs (virtio, not e1000/e1000e/rtl8139 or virtio-transitional), or put legacy PCI devices together behind one pcie-to-pci-bridge";

    /// <summary>Each port (and DMI bridge) on bus 0 and the windows its subtree needs; the devices io-reserve=0 leaves without I/O.</summary>
    private static (List<PortIoNeed> Ports, int Windows, List<string> Losing) RootPortNeeds(Topology topology, FirmwareProfile firmware, MachineProfile machine, IoReserveSettings reserve)
    {
        var buses = new Dictionary<int, TopologyBus>();
        void Index(TopologyBus b) { buses[b.Index] = b; foreach (var c in b.Children) Index(c); }
        Index(topology.Root);
        var ports = new List<PortIoNeed>();
        int windows = 0;
        var losing = new List<string>();
        foreach (var d in topology.Root.Devices)
        {
            if (d.ControllerType != "pci" || d.Index is not { } idx || !buses.TryGetValue(idx, out var bus)) continue;
            var reasons = new List<string>();
            int w = WindowsBelow(bus, buses, reasons);
            switch (bus.Model)
            {
                case PciControllerModel.PcieRootPort or PciControllerModel.PcieSwitchDownstreamPort:
                    bool off = reserve.AppliesTo(d);
                    if (off && w > 0) losing.AddRange(reasons.Select(r => $"{r} (below {d.Key})"));
                    // pc-q35-6.1: the firmware reserves a window for every port, empty or not.
                    if (w == 0 && machine.EveryPortReservesIo && !off && firmware.Firmware == Firmware.SeaBios) w = 1;
                    ports.Add(new PortIoNeed(d, w, reasons, Empty: bus.Devices.Count == 0, Hotplug: !d.HotplugOff, IoReserveOff: off));
                    windows += w;
                    break;
                case PciControllerModel.DmiToPciBridge:
                    windows += w;
                    break;
            }
        }
        return (ports, windows, losing);
    }

    /// <summary>SeaBIOS (every release measured): D past its windows is "PCI: out of I/O address space" and no boot.</summary>
    private static (bool BootFails, bool BarsUnset) SeaBiosVerdict(Budget b, List<Finding> findings)
    {
        if (b.Windows <= b.Available) return (false, false);
        findings.Add(new Finding("LP601", Severity.Error,
            $"boot fails: {b.Arithmetic(b.Windows)}; SeaBIOS stops with \"PCI: out of I/O address space\" and the VM never boots ({Describe(b.Ports)})",
            Fix: b.Machine.EveryPortReservesIo && b.Ports.Any(p => p.Windows > 0 && p.Reasons.Count == 0)
                ? "libvirt-pci --io-reserve off (on pc-q35-6.1 it makes empty ports free), or a newer machine type"
                : Fix));
        return (true, false);
    }

    /// <summary>
    /// OVMF, per edk2 release (FirmwareProfile.OvmfReleases): 2022.11 gives up as a whole when short,
    /// and then an empty hot-plug port's padding counts too; 2020.11 and 2025.02 program what fits
    /// and leave the rest (padding is dropped first); an unknown release is told both.
    /// </summary>
    private static (bool BootFails, bool BarsUnset) OvmfVerdict(Budget b, List<Finding> findings)
    {
        bool givesUpIfProgramsNothing = !b.GlobalOff && !b.Machine.EveryPortReservesIo && (b.Windows > b.Available || (b.Windows == b.Available && b.EmptyPadded > 0));
        var shortfall = b.Firmware.Shortfall;
        var why = b.Windows > b.Available ? b.Arithmetic(b.Windows)
            : $"{b.Windows} bridge windows fill OVMF's {b.Available} and {b.EmptyPadded} empty hot-plug port(s) still want a padding window";
        if (givesUpIfProgramsNothing && shortfall == OvmfShortfall.ProgramsNothing)
        {
            findings.Add(new Finding("LP602", Severity.Error,
                $"boot fails: {why}; OVMF {b.Firmware.Release} then programs no PCI BAR at all (not even the disk controller) and the VM never reaches its boot disk ({Describe(b.Ports)})", Fix: Fix));
            return (true, true);
        }
        if (givesUpIfProgramsNothing && shortfall is null)
        {
            var partial = b.Windows > b.Available ? $"boot, leaving {b.Windows - b.Available} device(s) behind root ports unprogrammed" : "boot";
            findings.Add(new Finding("LP602", Severity.Warning,
                $"boot fails with OVMF {FirmwareProfile.ReleasesThat(OvmfShortfall.ProgramsNothing)}: {why}; that release programs no PCI BAR at all and the VM never reaches its boot disk; OVMF {FirmwareProfile.ReleasesThat(OvmfShortfall.LeavesExcessUnprogrammed)} {partial} ({Describe(b.Ports)}; the host's OVMF release is not known: --ovmf-version or .libvirt-pci.json's ovmfVersion makes this exact)",
                Fix: Fix));
            return (false, b.Windows > b.Available);
        }
        if (b.Windows <= b.Available) return (false, false);
        findings.Add(new Finding("LP603", Severity.Warning,
            $"{b.Windows - b.Available} device(s) behind root ports get no BARs from OVMF{(b.Firmware.Release is { } r ? " " + r : "")}: {b.Arithmetic(b.Windows)}; a Linux guest re-assigns them, the firmware (PXE, boot) cannot use them", Fix: Fix));
        return (false, true);
    }

    /// <summary>What the booted guest notices: hot-plug ports Linux cannot give I/O, empty ports of pc-q35-6.1, devices io-reserve=0 cuts off.</summary>
    private static IEnumerable<Finding> GuestFindings(MachineProfile machine, IReadOnlyList<PortIoNeed> ports, IReadOnlyList<string> losing, int guestShort, int hotplugPorts)
    {
        if (guestShort > 0)
            yield return new Finding("LP604", Severity.Info,
                $"hotplug of an I/O device fails in {guestShort} port(s): {hotplugPorts} hot-plug root ports want a 4 KiB I/O window each and a Linux guest fits {LinuxWindows}; the last {guestShort} get none (guest log: \"bridge window [io size 0x1000]: can't assign; no space\")",
                Fix: "fine for virtio devices; for I/O-BAR devices keep fewer empty ports, or use --io-reserve per-port on ports that will only hold virtio");
        if (machine.EveryPortReservesIo && ports.Any(p => p.Empty))
            yield return new Finding("LP605", Severity.Info, $"on {machine.Name} empty root ports never get I/O space, so an I/O-BAR device hot-plugged into one gets none");
        if (losing.Count > 0)
            yield return new Finding("LP606", Severity.Warning,
                $"hotplug of an I/O device fails and {losing.Count} device(s) lose their I/O BAR with io-reserve=0: the port's I/O window is hard-wired off ({string.Join("; ", losing.Take(5))}{(losing.Count > 5 ? "; ..." : "")})",
                Fix: "use --io-reserve per-port, which leaves ports with I/O devices alone");
    }

    /// <summary>
    /// A PCI domain has 256 bus numbers. Below bus 0 running out is certain trouble; below an
    /// expander bus it means its busNr leaves too little room (libvirt counts down from 254).
    /// </summary>
    public static IEnumerable<Finding> BusNumberFindings(DomainDefinition domain, IReadOnlyDictionary<int, int> guestBuses)
    {
        if (guestBuses.Count == 0 || guestBuses.Values.Max() <= 255) yield break;
        var expanders = domain.Devices.Where(d => d.Element.Attr("model") is "pci-expander-bus" or "pcie-expander-bus" && d.Index is not null)
            .Select(d => guestBuses.GetValueOrDefault(d.Index!.Value)).Where(b => b > 0).ToList();
        int highest = guestBuses.Values.Max();
        int fromRoot = guestBuses.Values.Where(b => expanders.Count == 0 || b < expanders.Min()).DefaultIfEmpty(0).Max();
        if (fromRoot > 255 || expanders.Count == 0)
            yield return new Finding("LP607", Severity.Error, $"boot fails: the topology needs guest bus number {highest}, past the 256 a PCI domain has");
        else
            yield return new Finding("LP607", Severity.Warning,
                $"the buses below an expander bus (busNr {expanders.Min()}) run to guest bus number {highest}, past 255: the firmware cannot number them", Fix: "give the expander bus a lower busNr");
    }

    /// <summary>Windows a bridge's subtree needs: one for devices with I/O BARs on its own bus, plus its child bridges'; conventional PCI bridges cost one even empty.</summary>
    private static int WindowsBelow(TopologyBus bus, Dictionary<int, TopologyBus> buses, List<string> reasons)
    {
        int windows = 0;
        bool direct = false;
        foreach (var d in bus.Devices)
        {
            if (d.ControllerType == "pci" && d.Index is { } idx && buses.TryGetValue(idx, out var child) && idx != bus.Index)
            {
                int w = WindowsBelow(child, buses, reasons);
                if (child.Model is PciControllerModel.PciBridge or PciControllerModel.PcieToPciBridge && w == 0)
                {
                    w = 1;
                    reasons.Add($"{child.Model.Value.XmlName()} index {child.Index} (a PCI bridge always takes a window)");
                }
                windows += w;
            }
            else if (IoBars.Reason(d, bus.Model) is { } why)
            {
                direct = true;
                reasons.Add($"{d.Key}: {why}");
            }
        }
        return windows + (direct ? 1 : 0);
    }

    private static string Describe(IReadOnlyList<PortIoNeed> ports)
    {
        var needing = ports.Where(p => p.Windows > 0).ToList();
        return needing.Count == 0 ? "no port needs I/O" : $"{needing.Count} of {ports.Count} root ports need I/O, e.g. {needing[0].Name}: {(needing[0].Reasons.Count > 0 ? needing[0].Reasons[0] : "every port on this machine type")}";
    }
}
