using LibvirtPci.Addressing;
using LibvirtPci.Limits;
using LibvirtPci.Passthrough;
using LibvirtPci.Stability;

namespace LibvirtPci.Rewrite;

/// <summary>What a rewrite may do; a record, so a variant is a copy made with <c>with</c> (no field forgotten).</summary>
public sealed record RewriteOptions
{
    public QemuCapabilities Caps { get; init; } = QemuCapabilities.Latest;
    /// <summary>Start a ledger in &lt;metadata&gt; when the domain has none (a domain that has one always uses it).</summary>
    public bool Stable { get; init; }
    /// <summary>A ledger kept outside the domain (--ledger PATH); the domain's metadata is then left alone.</summary>
    public AddressLedger? SidecarLedger { get; init; }
    /// <summary>Keep this many empty hotplug root ports (q35).</summary>
    public int? SparePorts { get; init; }
    /// <summary>Inject or remove the io-reserve passthrough.</summary>
    public IoReserveMode IoReserve { get; init; } = IoReserveMode.Keep;
    /// <summary>The libvirt whose choices to reproduce: no default here — the caller resolves it once (the CLI: flag, .libvirt-pci.json, daemon, installed, newest).</summary>
    public required LibvirtProfile Libvirt { get; init; }
    /// <summary>Give every NIC an ACPI index, kept in the ledger (implies <see cref="Stable"/>).</summary>
    public bool AcpiIndex { get; init; }
    /// <summary>The host's firmware builds, as far as known: a limit that fails on one OVMF release and not on others is an error only when the host's release is known to fail.</summary>
    public FirmwareReleases Firmware { get; init; } = FirmwareReleases.Unknown;
}
