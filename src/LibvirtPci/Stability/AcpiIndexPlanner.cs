using LibvirtPci.Addressing;
using LibvirtPci.Domain;

namespace LibvirtPci.Stability;

/// <summary>What --acpi-index does to a domain: indexes to write, the ledger's memory of them, and why not when it cannot.</summary>
public sealed record AcpiIndexPlan(IReadOnlyList<(Device Nic, int Index)> ToWrite, IReadOnlyDictionary<string, int> Remember, IReadOnlyList<Finding> Findings);

/// <summary>
/// ACPI indexes for NICs (&lt;acpi index='N'/&gt;, libvirt ≥ 7.3): Linux with systemd then names
/// the NIC enoN wherever its PCI address goes. Like addresses, indexes are kept stable by the
/// ledger: a NIC keeps the index it has or the ledger remembers for it; a new NIC gets the lowest
/// index no device has and the ledger does not remember for another NIC (a removed NIC's index is
/// never handed to a different MAC). Measured with real boots (tools/libvirt-boot-probe.sh): the
/// guest sees the index on pc and on pc-q35-7.2 behind root ports and bridges, SeaBIOS and OVMF
/// alike, and sees none without ACPI.
/// </summary>
public static class AcpiIndexPlanner
{
    /// <param name="onPci">The NICs that sit on PCI (the allocation's result): libvirt refuses an ACPI
    /// index on any other ("ACPI index is only supported for PCI devices", a usb-net NIC on 11.3).</param>
    public static AcpiIndexPlan Plan(DomainDefinition domain, AddressLedger? ledger, LibvirtProfile libvirt, IReadOnlySet<Device> onPci)
    {
        var nics = domain.Devices.Where(d => d.Kind == "interface" && onPci.Contains(d)).ToList();
        var errors = new List<Finding>();
        Finding At(Device? d, string code, Severity severity, string message, string fix)
        {
            var (line, column) = domain.Position(d?.Element ?? domain.Root);
            return new Finding(code, severity, message, line, column, fix);
        }
        if (nics.Count == 0) return new AcpiIndexPlan([], new Dictionary<string, int>(), []);
        if (!libvirt.Has(LibvirtBehaviour.AcpiIndex))
            errors.Add(At(nics[0], "LP250", Severity.Error, $"ACPI indexes need libvirt 7.3 or newer; libvirt {libvirt} does not know <acpi index>", "drop --acpi-index, or give the libvirt the hosts run (--libvirt-version)"));
        if (domain.Root.Element("features")?.Element("acpi") is null)
            errors.Add(At(null, "LP251", Severity.Error, "the domain has no ACPI (<features><acpi/>): the guest would not see an ACPI index", "add <acpi/> to <features>"));
        if (domain.Family == MachineFamily.Q35 && Q35Version(domain.Machine) is { } v && v < new Version(6, 1)
            && nics.Any(n => !n.Address.IsPciPresent || n.Address.Pci.Bus != 0))
            errors.Add(At(null, "LP252", Severity.Error, $"machine '{domain.Machine}' has no ACPI hotplug on PCIe ports (QEMU made it q35's default in pc-q35-6.1): the guest sees no ACPI index behind a root port",
                "use pc-q35-6.1 or newer (or q35)"));
        if (errors.Count > 0) throw new InputException(domain.Name, errors);

        var findings = new List<Finding>();
        var used = new Dictionary<int, Device>();
        foreach (var d in domain.Devices)
        {
            if (d.Element.Element("acpi")?.Attr("index") is not { } text) continue;
            if (!int.TryParse(text, out int index) || index is < 1 or > AddressLedger.AcpiIndexMax)
                throw new InputException(domain.Name, [At(d, "LP253", Severity.Error, $"{d.Key}: ACPI index '{text}' is not 1 to {AddressLedger.AcpiIndexMax}", "give it another index")]);
            if (!used.TryAdd(index, d))
                throw new InputException(domain.Name, [At(d, "LP253", Severity.Error, $"{d.Key}: ACPI index {index} is {used[index].Key}'s too (libvirt refuses duplicates)", "give one of them another index")]);
        }
        var remembered = ledger?.AcpiIndexes ?? new Dictionary<string, int>();
        var rememberedIndexes = remembered.ToDictionary(kv => kv.Value, kv => kv.Key);
        var remember = new Dictionary<string, int>(StringComparer.Ordinal);
        var toWrite = new List<(Device, int)>();
        int next = 1;
        foreach (var nic in nics)
        {
            if (nic.Element.Element("acpi")?.Attr("index") is { } own) { remember[nic.Key] = int.Parse(own); continue; }
            if (remembered.TryGetValue(nic.Key, out int old) && !used.ContainsKey(old))
            {
                toWrite.Add((nic, old));
                used[old] = nic;
                remember[nic.Key] = old;
                continue;
            }
            if (remembered.ContainsKey(nic.Key))
                findings.Add(At(nic, "LP254", Severity.Warning, $"{nic.Key}: its remembered ACPI index {remembered[nic.Key]} is {used[remembered[nic.Key]].Key}'s now; it gets a new one (its Linux name changes)", "give it its old index back by hand if the other device can take another"));
            while (used.ContainsKey(next) || (rememberedIndexes.TryGetValue(next, out var holder) && holder != nic.Key)) next++;
            if (next > AddressLedger.AcpiIndexMax) throw new InputException(domain.Name, [At(nic, "LP253", Severity.Error, "no ACPI index left", "remove ledger entries of NICs gone for good")]);
            toWrite.Add((nic, next));
            used[next] = nic;
            remember[nic.Key] = next;
        }
        return new AcpiIndexPlan(toWrite, remember, findings);
    }

    /// <summary>pc-q35-X.Y → X.Y; q35 (the newest) and others → null.</summary>
    private static Version? Q35Version(string? machine) =>
        machine is not null && machine.StartsWith("pc-q35-", StringComparison.Ordinal) && Version.TryParse(machine["pc-q35-".Length..], out var v) ? v : null;
}
