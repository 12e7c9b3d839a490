using LibvirtPci.Domain;

namespace LibvirtPci.Limits;

/// <summary>The machine type as it matters for I/O reservation: q35 version (null for the bare alias = newest).</summary>
public sealed record MachineProfile(MachineFamily Family, Version? Version, string Name)
{
    public static MachineProfile Of(DomainDefinition domain)
    {
        var name = domain.Machine ?? (domain.Family == MachineFamily.Q35 ? "q35" : "pc");
        // "pc-q35-X.Y"; the bare alias "q35" means the host QEMU's newest version.
        Version? version = null;
        if (name.StartsWith("pc-q35-", StringComparison.Ordinal) && Version.TryParse(name["pc-q35-".Length..], out var v) && v.Build < 0)
            version = v;
        return new MachineProfile(domain.Family, version, name);
    }

    /// <summary>
    /// pc-q35-6.1 hid the ports' native hotplug capability: firmware then reserves an I/O window
    /// for every pcie-root-port, empty or not (measured: 15 empty ports hang SeaBIOS on 6.1 only).
    /// </summary>
    public bool EveryPortReservesIo => Version is { Major: 6, Minor: 1 };
}
