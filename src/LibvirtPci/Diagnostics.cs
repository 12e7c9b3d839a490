namespace LibvirtPci;

/// <summary>What kind of message a code is, which decides what happens to the file.</summary>
public enum DiagnosticKind
{
    /// <summary>The command line: exit 2, nothing runs.</summary>
    Usage,
    /// <summary>A file, a tool or virsh failed: the message says which; that file is not written.</summary>
    Fault,
    /// <summary>The input cannot be used (not XML, not a domain, something libvirt refuses): exit 2, nothing written.</summary>
    Input,
    /// <summary>A finding about the result: an error stops the write (exit 4), a warning or note is printed.</summary>
    Finding,
}

/// <summary>
/// One diagnostic code: its kind, the highest severity it is reported at, what it means and —
/// for everything that stops a write — the evidence that libvirt refuses it or the guest does not
/// boot (Finding.cs: an error means exactly that).
/// </summary>
public sealed record DiagnosticCode(string Code, DiagnosticKind Kind, Severity Severity, string Meaning, string? Evidence = null);

/// <summary>
/// Every code the tool emits, in one table: the README's code table and `libvirt-pci help codes`
/// are made from it, and a test fails when a code in the source is missing here or is reported
/// at a severity above its entry.
/// </summary>
public static class Diagnostics
{
    private const string Refused = "libvirt refuses it at define";

    public static readonly IReadOnlyList<DiagnosticCode> All =
    [
        new("LP001", DiagnosticKind.Usage, Severity.Error, "a bad command line (unknown option or command, a value out of range, options that exclude each other)"),
        new("LP002", DiagnosticKind.Usage, Severity.Error, "--libvirt-version names no version the tool knows (older than 7.0, or not a version)"),
        new("LP003", DiagnosticKind.Usage, Severity.Warning, "a libvirt newer than the newest the tool knows: the newest profile's choices are used"),
        new("LP100", DiagnosticKind.Fault, Severity.Error, "no such file"),
        new("LP101", DiagnosticKind.Fault, Severity.Error, "a directory where a file was expected"),
        new("LP102", DiagnosticKind.Fault, Severity.Error, "permission denied"),
        new("LP103", DiagnosticKind.Fault, Severity.Error, "input larger than the tool reads"),
        new("LP104", DiagnosticKind.Fault, Severity.Error, "the file changed while the tool worked on it: not overwritten"),
        new("LP105", DiagnosticKind.Fault, Severity.Error, "a file cannot be written (read-only, full disk, no permission)"),
        new("LP111", DiagnosticKind.Fault, Severity.Error, "tree --format svg without Graphviz's dot, or dot failed"),
        new("LP112", DiagnosticKind.Fault, Severity.Error, "diff: git cannot give the file at that revision (no repository, no such revision or path)"),
        new("LP120", DiagnosticKind.Fault, Severity.Error, "hook install: a pre-commit hook that is not libvirt-pci's is installed (--force replaces it)"),
        new("LP121", DiagnosticKind.Fault, Severity.Error, "hook: not inside a Git repository, or git is not installed"),
        new("LP130", DiagnosticKind.Fault, Severity.Error, "migrate: virsh list failed"),
        new("LP131", DiagnosticKind.Fault, Severity.Error, "migrate: virsh dumpxml failed"),
        new("LP132", DiagnosticKind.Fault, Severity.Error, "migrate: define or its verification failed; the original was defined again"),
        new("LP133", DiagnosticKind.Fault, Severity.Error, "migrate: define failed and restoring the backup failed too (the backup's path is printed)"),
        new("LP134", DiagnosticKind.Fault, Severity.Error, "migrate: the new XML would move or rename devices the guest already has; not defined (--accept-guest-changes defines it)"),
        new("LP190", DiagnosticKind.Fault, Severity.Error, "an internal error of libvirt-pci (a bug): that file is not written, the others are still done; please report it with the file"),
        new("LP200", DiagnosticKind.Input, Severity.Error, "malformed XML", "libvirt's parser (libxml2) refuses it"),
        new("LP201", DiagnosticKind.Input, Severity.Error, "an encoding other than UTF-8", "libvirt reads domain XML as UTF-8"),
        new("LP202", DiagnosticKind.Input, Severity.Error, "empty input"),
        new("LP203", DiagnosticKind.Input, Severity.Error, "a DOCTYPE (no DTD, no entities, no external fetch)", "libvirt's domain XML has none; refused so that nothing is expanded or fetched"),
        new("LP204", DiagnosticKind.Input, Severity.Error, "the root element is not <domain>"),
        new("LP205", DiagnosticKind.Input, Severity.Error, "elements nested deeper than the tool reads"),
        new("LP206", DiagnosticKind.Input, Severity.Error, "PCI controller index 0 is not the machine's root (pci-root on pc, pcie-root on q35)", Refused + " (qemuDomainDefAddDefaultDevices; measured on the 9.0 daemon)"),
        new("LP207", DiagnosticKind.Input, Severity.Error, "no model can be chosen for a SCSI controller", Refused + " (qemuDomainDefaultSCSIControllerModel)"),
        new("LP208", DiagnosticKind.Input, Severity.Error, "a PCI controller of no known model", Refused + " (virDomainControllerModelPCI)"),
        new("LP209", DiagnosticKind.Input, Severity.Error, "a controller index that is not a number", Refused + " (\"cannot parse controller index\")"),
        new("LP210", DiagnosticKind.Input, Severity.Error, "an address libvirt cannot parse (bad number, unknown type, function > 7, slot > 31)", Refused + " (virPCIDeviceAddressParseXML)"),
        new("LP211", DiagnosticKind.Finding, Severity.Error, "a PCI domain other than 0", Refused + " (only PCI domain 0 exists on x86)"),
        new("LP212", DiagnosticKind.Input, Severity.Error, "an address on a bus no controller provides and libvirt does not add", Refused + " (virDomainPCIAddressValidate)"),
        new("LP213", DiagnosticKind.Input, Severity.Error, "a device on a bus that cannot take it (PCIe endpoint on PCI, hotplug off, …)", Refused + " (virDomainPCIAddressFlagsCompatible)"),
        new("LP214", DiagnosticKind.Input, Severity.Error, "a slot the bus does not have", Refused + " (virDomainPCIAddressValidate)"),
        new("LP215", DiagnosticKind.Input, Severity.Error, "one PCI address used twice", Refused + " (\"Attempted double use of PCI Address\")"),
        new("LP216", DiagnosticKind.Input, Severity.Error, "a pci-bridge whose index is not above its bus", Refused + " (qemuDomainAssignPCIAddresses)"),
        new("LP217", DiagnosticKind.Input, Severity.Error, "no busNr left for an expander bus", Refused + " (qemuDomainAddressFindNewBusNr)"),
        new("LP218", DiagnosticKind.Input, Severity.Error, "PIIX3 USB or IDE on a machine whose bus 0 is not PCI", Refused + " (qemuDomainValidateDevicePCISlotsPIIX3)"),
        new("LP219", DiagnosticKind.Input, Severity.Error, "a chipset device (PIIX3 IDE/USB, ICH9 SATA, video) at another address than its fixed one", Refused + " (qemuDomainValidateDevicePCISlotsPIIX3/Q35)"),
        new("LP220", DiagnosticKind.Input, Severity.Error, "no free PCI slot and no bus libvirt can add for a device", Refused + " (\"No more available PCI slots\")"),
        new("LP221", DiagnosticKind.Input, Severity.Error, "a PCI address on a device libvirt does not put on PCI, or no bus for it can be added", Refused + " (\"Cannot automatically add a new PCI bus\"; measured on the 9.0 daemon)"),
        new("LP222", DiagnosticKind.Input, Severity.Error, "a virtio disk with a non-PCI address", Refused + " (qemuValidateDomainDeviceDefDisk)"),
        new("LP223", DiagnosticKind.Input, Severity.Error, "a device at an address the chipset reserves", Refused + " (\"Attempted double use of PCI Address\")"),
        new("LP224", DiagnosticKind.Input, Severity.Error, "more PCI buses than a PCI domain has", Refused + " (256 bus numbers)"),
        new("LP225", DiagnosticKind.Input, Severity.Error, "a second device of a kind libvirt allows once (memballoon, watchdog before 9.1, vsock, iommu)", Refused + " (virDomainDefParseXML)"),
        new("LP226", DiagnosticKind.Input, Severity.Error, "--spare-ports would make the domain fail to boot (see LP601/LP602)", "real boots (tools/qemu-boot-probe.sh): the firmware runs out of I/O space"),
        new("LP227", DiagnosticKind.Input, Severity.Error, "a machine type or architecture the tool does not handle (pc and q35 on x86_64/i686 only)"),
        new("LP230", DiagnosticKind.Input, Severity.Error, "a bad .libvirt-pci.json (not JSON, unknown key, wrong type)"),
        new("LP241", DiagnosticKind.Input, Severity.Error, "convert: a device q35 cannot host (ib700)", Refused + " on q35 (qemuValidateDomainWatchdogDef: ib700 is i440fx only)"),
        new("LP242", DiagnosticKind.Input, Severity.Error, "convert: an IDE disk whose target name gives no SATA unit", Refused + " (virDiskNameToIndex)"),
        new("LP250", DiagnosticKind.Input, Severity.Error, "ACPI indexes asked of a libvirt older than 7.3", "libvirt < 7.3 drops <acpi index> (it does not know it): what was asked would not be kept"),
        new("LP251", DiagnosticKind.Input, Severity.Error, "ACPI indexes asked of a domain without <acpi/>", "measured: the guest sees no index without ACPI"),
        new("LP252", DiagnosticKind.Input, Severity.Error, "ACPI indexes asked of a q35 machine older than pc-q35-6.1 for NICs behind root ports", "QEMU has ACPI hotplug on PCIe ports from pc-q35-6.1: the guest sees no index before"),
        new("LP253", DiagnosticKind.Input, Severity.Error, "an ACPI index out of range or used twice, or none left", Refused + " (virDomainDefValidate: unique, 1 to 16383)"),
        new("LP254", DiagnosticKind.Finding, Severity.Warning, "a remembered ACPI index is another NIC's now: this NIC gets a new one"),
        new("LP301", DiagnosticKind.Finding, Severity.Error, "one PCI address on two devices", Refused + " (\"Attempted double use of PCI Address\")"),
        new("LP302", DiagnosticKind.Finding, Severity.Error, "an address on a bus no controller provides (and libvirt does not add)", Refused + " (\"only buses up to N are available\")"),
        new("LP303", DiagnosticKind.Finding, Severity.Error, "a slot the bus does not have", Refused + " (virDomainPCIAddressValidate)"),
        new("LP304", DiagnosticKind.Finding, Severity.Warning, "a function above 0 whose slot has no function 0 (libvirt accepts it and makes it itself for a lone ich9-ehci1; a Linux guest does not see it), or a function 0 with multifunction='off'"),
        new("LP305", DiagnosticKind.Finding, Severity.Error, "a PCIe port on a conventional PCI bus", Refused + " (virDomainPCIAddressFlagsCompatible)"),
        new("LP307", DiagnosticKind.Finding, Severity.Error, "two ports with one chassis/port pair, or two bridges with one chassisNr", "QEMU refuses to start the guest (duplicate slot identity)"),
        new("LP308", DiagnosticKind.Finding, Severity.Error, "a device at a function the chipset occupies", Refused + " (\"Attempted double use of PCI Address\")"),
        new("LP309", DiagnosticKind.Finding, Severity.Error, "two controllers of one type with one index", Refused + " (virDomainDefCheckDuplicateControllers)"),
        new("LP401", DiagnosticKind.Input, Severity.Error, "a contradictory address ledger (bad entry, key or address twice)"),
        new("LP402", DiagnosticKind.Input, Severity.Error, "a --ledger file that is not a ledger"),
        new("LP501", DiagnosticKind.Finding, Severity.Warning, "a released slot reused because nothing else is left"),
        new("LP502", DiagnosticKind.Finding, Severity.Info, "a device moved in the XML: the ledger follows the XML"),
        new("LP503", DiagnosticKind.Finding, Severity.Warning, "another editor (virsh attach-device, virt-manager) gave a released slot to a new device"),
        new("LP504", DiagnosticKind.Finding, Severity.Warning, "a returning device whose old address is taken gets a new one"),
        new("LP505", DiagnosticKind.Finding, Severity.Warning, "a remembered address on a bus whose controller was removed"),
        new("LP601", DiagnosticKind.Finding, Severity.Error, "SeaBIOS runs out of I/O space: the guest does not boot", "real boots: SeaBIOS 1.16.2 \"PCI: out of I/O address space\" (docs: qemu-limit)"),
        new("LP602", DiagnosticKind.Finding, Severity.Error, "OVMF programs no device: the guest does not reach its disk (an error where the host's OVMF is 2022.11; a warning naming the releases where it fails when the host's release is not known)", "real boots: OVMF 2022.11 (Debian 12) gives up as a whole; 2020.11 (Debian 11) and 2025.02 (Debian 13) program what fits (FirmwareGroundTruthTests)"),
        new("LP603", DiagnosticKind.Finding, Severity.Warning, "past OVMF's I/O limit: devices behind root ports the firmware leaves unprogrammed (no PXE or boot from them)"),
        new("LP604", DiagnosticKind.Finding, Severity.Info, "hotplug of an I/O-BAR device into an empty port would fail"),
        new("LP605", DiagnosticKind.Finding, Severity.Info, "empty root ports of this machine never get I/O space"),
        new("LP606", DiagnosticKind.Finding, Severity.Warning, "a device whose I/O BAR the firmware leaves unprogrammed"),
        new("LP607", DiagnosticKind.Finding, Severity.Error, "the topology needs more guest bus numbers than a PCI domain has", "the firmware cannot number the buses: the guest does not boot"),
        new("LP610", DiagnosticKind.Finding, Severity.Warning, "--io-reserve on a machine without pcie-root-ports: nothing injected"),
        new("LP611", DiagnosticKind.Finding, Severity.Warning, "the global io-reserve does not reach ports of another model"),
        new("LP612", DiagnosticKind.Finding, Severity.Info, "libvirt marks a domain with <qemu:commandline>/<qemu:override> as tainted; it runs normally"),
        new("LP613", DiagnosticKind.Finding, Severity.Warning, "--io-reserve per-port for a libvirt older than 8.2, which drops <qemu:override>: the global fix is written instead"),
    ];

    private static Dictionary<string, DiagnosticCode>? _byCode;

    public static DiagnosticCode? Find(string code) =>
        (_byCode ??= All.ToDictionary(d => d.Code, StringComparer.Ordinal)).GetValueOrDefault(code);

    /// <summary>The README's and `help codes`' table, one row a code (Markdown).</summary>
    public static string MarkdownTable()
    {
        var sb = new System.Text.StringBuilder("| code | kind | severity | meaning | evidence |\n|---|---|---|---|---|\n");
        foreach (var d in All)
            sb.Append($"| {d.Code} | {d.Kind.ToString().ToLowerInvariant()} | {d.Severity.ToString().ToLowerInvariant()} | {d.Meaning.Replace("|", "\\|", StringComparison.Ordinal)} | {d.Evidence ?? ""} |\n");
        return sb.ToString();
    }
}
