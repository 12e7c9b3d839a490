using LibvirtPci.Domain;
using LibvirtPci.Xml;

namespace LibvirtPci.Addressing;

/// <summary>
/// Checks the PCI addresses a domain already carries: duplicates, buses without a controller,
/// slots a bus does not have, functions without a multifunction function 0, PCIe controllers on
/// conventional PCI buses, clashing chassis/port numbers. Pure: findings in, nothing written.
/// </summary>
public static class AddressLint
{
    /// <param name="completion">The allocator's result for this domain, when there is one: the checks
    /// then see the domain as libvirt completes it — an address on a bus libvirt adds is no LP302,
    /// a function 0 libvirt fills is filled, multifunction='on' libvirt adds is there.</param>
    public static IReadOnlyList<Finding> Check(DomainDefinition domain, AllocationResult? completion = null)
    {
        var findings = new List<Finding>();
        var addressed = domain.Devices.Where(d => d.Address.IsPciPresent && d.Kind != "console").ToList();
        var byAddress = CheckAddresses(domain, addressed, findings);
        CheckControllerIndexes(domain, findings);
        var pciControllers = domain.Devices.Where(d => d.ControllerType == "pci" && d.Index is not null)
            .GroupBy(d => d.Index!.Value).ToDictionary(g => g.Key, g => g.First());
        CheckBuses(domain, addressed, pciControllers, completion?.Added.Where(c => c.IsPciController).Select(c => c.Index).ToHashSet(), findings);
        CheckChipset(domain, addressed, findings);
        CheckFunctionZero(domain, addressed, byAddress, completion, findings);
        CheckPortIdentities(domain, pciControllers.Values, findings);
        return InLineOrder(findings);
    }

    /// <summary>A finding at the device's &lt;address&gt; (or the device when it has none).</summary>
    private static Finding At(DomainDefinition domain, Device d, string code, Severity sev, string message, string? fix = null)
    {
        var (l, c) = domain.Position(d.Address.Element ?? d.Element);
        return new Finding(code, sev, message, l, c, fix);
    }

    /// <summary>PCI domain 0 only (LP211); one device per address (LP301). Returns the first device at each address.</summary>
    private static Dictionary<PciAddress, Device> CheckAddresses(DomainDefinition domain, List<Device> addressed, List<Finding> findings)
    {
        var byAddress = new Dictionary<PciAddress, Device>();
        foreach (var d in addressed)
        {
            if (d.Address.Pci.Domain != 0)
                findings.Add(At(domain, d, "LP211", Severity.Error, $"{d.Key}: invalid PCI address {d.Address.Pci}: only PCI domain 0 is available",
                    "set domain='0x0000', or remove the address and run libvirt-pci assign"));
            if (byAddress.TryGetValue(d.Address.Pci, out var other))
            {
                var (ol, _) = domain.Position(other.Element);
                findings.Add(At(domain, d, "LP301", Severity.Error, $"duplicate PCI address {d.Address.Pci}: {d.Key} and {other.Key} (line {ol})",
                    "remove one of the two <address> elements and run libvirt-pci assign"));
            }
            else byAddress[d.Address.Pci] = d;
        }
        return byAddress;
    }

    /// <summary>Controllers: duplicate type/index pairs (LP309); a USB2 set's companions share their master's index.</summary>
    private static void CheckControllerIndexes(DomainDefinition domain, List<Finding> findings)
    {
        var indexes = new Dictionary<(string, int), Device>();
        foreach (var d in domain.Devices.Where(d => d.IsController && d.ControllerType is not null && d.Index is not null))
        {
            if (DomainDefinition.IsUsb2Companion(d)) continue;
            if (!indexes.TryAdd((d.ControllerType!, d.Index!.Value), d))
                findings.Add(At(domain, d, "LP309", Severity.Error, $"duplicate controller type='{d.ControllerType}' index='{d.Index}'",
                    "give one of the two controllers an index no other controller of its type has"));
        }
    }

    /// <summary>Each address on a bus that exists (LP302; a bus libvirt adds counts), in a slot the bus has (LP303), PCIe ports only where they plug (LP305).</summary>
    private static void CheckBuses(DomainDefinition domain, List<Device> addressed, Dictionary<int, Device> pciControllers, HashSet<int>? addedBuses, List<Finding> findings)
    {
        PciControllerModel? BusModel(int bus) =>
            pciControllers.TryGetValue(bus, out var c) ? PciControllerModels.Parse(c.Element.Attr("model"))
            : bus == 0 ? (domain.Family == MachineFamily.Q35 ? PciControllerModel.PcieRoot : PciControllerModel.PciRoot) : null;
        foreach (var d in addressed)
        {
            var a = d.Address.Pci;
            if (BusModel(a.Bus) is not { } model)
            {
                if (!pciControllers.ContainsKey(a.Bus) && addedBuses?.Contains(a.Bus) != true)
                    findings.Add(At(domain, d, "LP302", Severity.Error, $"{d.Key} is at {a}, but there is no PCI controller with index='{a.Bus}'",
                        $"add a <controller type='pci' index='{a.Bus}'> or remove the address and run libvirt-pci assign"));
                continue;
            }
            var (busFlags, min, max) = model.BusRules(true);
            if (a.Slot < min || a.Slot > max)
                findings.Add(At(domain, d, "LP303", Severity.Error,
                    $"{d.Key} is at {a}, but a {model.XmlName()} only has slot{(min == max ? $" {min}" : $"s {min}-{max}")}",
                    "remove the address and run libvirt-pci assign"));
            if (d.ControllerType == "pci" && PciControllerModels.Parse(d.Element.Attr("model")) is { } own
                && own is PciControllerModel.PcieRootPort or PciControllerModel.PcieSwitchUpstreamPort or PciControllerModel.PcieSwitchDownstreamPort
                && (own.PlugFlags() & ConnectFlags.TypesMask & busFlags) == 0)
                findings.Add(At(domain, d, "LP305", Severity.Error,
                    $"{own.XmlName()} index {d.Index} is at {a} on a {model.XmlName()}, which cannot take it (a PCIe port needs pcie-root, a pcie-expander-bus or a switch)",
                    "remove its address and run libvirt-pci assign"));
        }
    }

    /// <summary>Functions the chipset occupies (libvirt reserves them before anything else): LP308.</summary>
    private static void CheckChipset(DomainDefinition domain, List<Device> addressed, List<Finding> findings)
    {
        foreach (var d in addressed)
        {
            var a = d.Address.Pci;
            if (a.Bus == 0 && Chipset.At(domain.Family, a) is { } function && !(function.Controller is { } role && d.ControllerType == role && d.Index == 0))
                findings.Add(At(domain, d, "LP308", Severity.Error, $"{d.Key} is at {a}, which is reserved for {function.Name}", "remove the address and run libvirt-pci assign"));
        }
    }

    /// <summary>Chassis/port pairs of root ports and downstream ports are unique; so are pci-bridge chassisNr (LP307: QEMU refuses two).</summary>
    private static void CheckPortIdentities(DomainDefinition domain, IEnumerable<Device> pciControllers, List<Finding> findings)
    {
        var ports = new Dictionary<(long, long), Device>();
        var chassisNrs = new Dictionary<long, Device>();
        foreach (var d in pciControllers)
        {
            var t = d.Target;
            if (t is null) continue;
            if (t.Attr("chassis") is { } ch && t.Attr("port") is { } p && PciAddress.ParseNumber(ch) is { } chassis && PciAddress.ParseNumber(p) is { } port)
            {
                if (ports.TryGetValue((chassis, port), out var o))
                    findings.Add(At(domain, d, "LP307", Severity.Error, $"controller index {d.Index} repeats chassis={chassis} port=0x{port:x} of controller index {o.Index}: QEMU refuses two ports with one slot identity",
                        "give one of the ports a chassis/port pair no other port has"));
                else ports[(chassis, port)] = d;
            }
            if (t.Attr("chassisNr") is { } cn && PciAddress.ParseNumber(cn) is { } nr)
            {
                if (chassisNrs.TryGetValue(nr, out var o))
                    findings.Add(At(domain, d, "LP307", Severity.Error, $"pci-bridge index {d.Index} repeats chassisNr={nr} of controller index {o.Index}",
                        "give one of the bridges a chassisNr no other bridge has"));
                else chassisNrs[nr] = d;
            }
        }
    }

    /// <summary>
    /// Functions above 0 need a function 0 that is multifunction (the chipset's own slots excepted),
    /// checked on libvirt's completion when there is one. libvirt itself accepts a slot without
    /// function 0 (domain_addr.c checks no such thing; it puts a lone ich9-ehci1 at function 7 of a
    /// new slot) and the guest boots; Linux does not scan the slot's other functions then, so the
    /// device is invisible to it: a warning, once per slot, never an error.
    /// </summary>
    private static void CheckFunctionZero(DomainDefinition domain, List<Device> addressed, Dictionary<PciAddress, Device> byAddress, AllocationResult? completion, List<Finding> findings)
    {
        Finding At(XmlElementSpan? el, string code, Severity sev, string message, string fix)
        {
            var (l, c) = domain.Position(el ?? domain.DevicesElement ?? domain.Root);
            return new Finding(code, sev, message, l, c, fix);
        }
        const string NoFunctionZeroFix = "move it to function 0, or remove the address and run libvirt-pci assign";
        if (completion is null)
        {
            var warned = new HashSet<PciAddress>();
            foreach (var d in addressed)
            {
                var a = d.Address.Pci;
                if (a.Function == 0 || Chipset.IsChipsetSlot(domain.Family, a)) continue;
                if (!byAddress.TryGetValue(a with { Function = 0 }, out var f0))
                {
                    if (warned.Add(a with { Function = 0 }))
                        findings.Add(At(d.Address.Element ?? d.Element, "LP304", Severity.Warning, NoFunctionZero(d.Key, a), NoFunctionZeroFix));
                }
                else if (f0.Address.Multifunction == false)
                    findings.Add(At(f0.Address.Element ?? f0.Element, "LP304", Severity.Warning, MultifunctionOff(f0.Key, f0.Address.Pci, d.Key, a.Function), "set multifunction='on' on the function-0 address"));
                else if (f0.Address.Multifunction != true)
                    findings.Add(At(f0.Address.Element ?? f0.Element, "LP304", Severity.Info, $"{f0.Key} at {f0.Address.Pci} shares its slot with {d.Key} at {a}: libvirt adds multifunction='on' itself (virDomainPCIAddressSetAllMulti), and so does assign",
                        "add multifunction='on' to the function-0 address"));
            }
            return;
        }
        var planned = new Dictionary<PciAddress, PlannedDevice>();
        var all = completion.Inventory.IterationOrder().Concat(completion.Added).Where(p => p.IsPciPresent && p.AddressType == "pci" && p.Kind != "console").ToList();
        foreach (var p in all) planned.TryAdd(p.Pci, p);
        var said = new HashSet<PciAddress>();
        foreach (var p in all)
        {
            var a = p.Pci;
            if (a.Function == 0 || Chipset.IsChipsetSlot(domain.Family, a) || !said.Add(a with { Function = 0 })) continue;
            var el = p.Source is { } src ? src.Address.Element ?? src.Element : null;
            if (!planned.TryGetValue(a with { Function = 0 }, out var f0))
                findings.Add(At(el, "LP304", Severity.Warning, NoFunctionZero(p.Key, a), NoFunctionZeroFix));
            else if (f0.Multifunction == false)
                findings.Add(At(f0.Source is { } s0 ? s0.Address.Element ?? s0.Element : null, "LP304", Severity.Warning, MultifunctionOff(f0.Key, f0.Pci, p.Key, a.Function), "set multifunction='on' on the function-0 address"));
        }
    }

    private static string NoFunctionZero(string key, PciAddress a) =>
        $"{key} is at {a}, but nothing is at function 0 of that slot: libvirt accepts it, but a Linux guest does not look at the other functions of a slot without function 0 and will not see it";

    private static string MultifunctionOff(string f0Key, PciAddress f0, string key, int function) =>
        $"{f0Key} at {f0} says multifunction='off' although {key} uses function {function} of its slot; the guest may not see the other functions";

    private static IReadOnlyList<Finding> InLineOrder(List<Finding> findings)
    {
        // In line order, as a compiler reports them (a stable sort: List.Sort is not, and Linq's
        // OrderBy would start the runtime type loader on every run).
        var ordered = new (Finding f, int i)[findings.Count];
        for (int i = 0; i < ordered.Length; i++) ordered[i] = (findings[i], i);
        Array.Sort(ordered, (x, y) => x.f.Line != y.f.Line ? x.f.Line.CompareTo(y.f.Line) : x.f.Column != y.f.Column ? x.f.Column.CompareTo(y.f.Column) : x.i.CompareTo(y.i));
        return Array.ConvertAll(ordered, x => x.f);
    }
}
