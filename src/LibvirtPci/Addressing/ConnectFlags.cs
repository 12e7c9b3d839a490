namespace LibvirtPci.Addressing;

/// <summary>
/// What a device needs of a bus, or what a bus accepts (libvirt's virDomainPCIConnectFlags,
/// same bit values as domain_addr.h).
/// </summary>
[Flags]
public enum ConnectFlags
{
    None = 0,
    AutoAssign = 1 << 0,
    Hotpluggable = 1 << 1,
    Integrated = 1 << 2,
    AggregateSlot = 1 << 3,
    PciDevice = 1 << 4,
    PcieDevice = 1 << 5,
    PcieRootPort = 1 << 6,
    PcieSwitchUpstreamPort = 1 << 7,
    PcieSwitchDownstreamPort = 1 << 8,
    DmiToPciBridge = 1 << 9,
    PciExpanderBus = 1 << 10,
    PcieExpanderBus = 1 << 11,
    PciBridge = 1 << 12,
    PcieToPciBridge = 1 << 13,

    TypesMask = PciDevice | PcieDevice | PcieRootPort | PcieSwitchUpstreamPort | PcieSwitchDownstreamPort
        | DmiToPciBridge | PciExpanderBus | PcieExpanderBus | PciBridge | PcieToPciBridge,
    Endpoint = PciDevice | PcieDevice,
}

/// <summary>The PCI controller models libvirt knows (controller type='pci').</summary>
public enum PciControllerModel
{
    PciRoot,
    PcieRoot,
    PciBridge,
    DmiToPciBridge,
    PcieToPciBridge,
    PcieRootPort,
    PcieSwitchUpstreamPort,
    PcieSwitchDownstreamPort,
    PciExpanderBus,
    PcieExpanderBus,
}

public static class PciControllerModels
{
    private static readonly string[] Names =
    {
        "pci-root", "pcie-root", "pci-bridge", "dmi-to-pci-bridge", "pcie-to-pci-bridge", "pcie-root-port",
        "pcie-switch-upstream-port", "pcie-switch-downstream-port", "pci-expander-bus", "pcie-expander-bus",
    };

    public static string XmlName(this PciControllerModel model) => Names[(int)model];

    public static PciControllerModel? Parse(string? name)
    {
        int i = name is null ? -1 : Array.IndexOf(Names, name);
        return i < 0 ? null : (PciControllerModel)i;
    }

    /// <summary>What the controller itself needs to plug in (virDomainPCIControllerModelToConnectType).</summary>
    public static ConnectFlags PlugFlags(this PciControllerModel model) => model switch
    {
        PciControllerModel.PciBridge => ConnectFlags.PciBridge,
        PciControllerModel.PciExpanderBus => ConnectFlags.PciExpanderBus,
        PciControllerModel.PcieExpanderBus => ConnectFlags.PcieExpanderBus,
        PciControllerModel.DmiToPciBridge => ConnectFlags.DmiToPciBridge,
        PciControllerModel.PcieToPciBridge => ConnectFlags.PcieToPciBridge,
        PciControllerModel.PcieRootPort => ConnectFlags.PcieRootPort | ConnectFlags.AggregateSlot,
        PciControllerModel.PcieSwitchUpstreamPort => ConnectFlags.PcieSwitchUpstreamPort,
        PciControllerModel.PcieSwitchDownstreamPort => ConnectFlags.PcieSwitchDownstreamPort,
        _ => ConnectFlags.None,
    };

    /// <summary>What the bus a controller provides accepts, and its slot range (virDomainPCIAddressBusSetModel).</summary>
    public static (ConnectFlags Flags, int MinSlot, int MaxSlot) BusRules(this PciControllerModel model, bool hotplug)
    {
        var h = hotplug ? ConnectFlags.Hotpluggable : ConnectFlags.None;
        const ConnectFlags A = ConnectFlags.AutoAssign;
        return model switch
        {
            PciControllerModel.PciRoot => (A | ConnectFlags.PciDevice | ConnectFlags.PciBridge | ConnectFlags.PciExpanderBus | h, 1, 31),
            PciControllerModel.PciBridge => (A | ConnectFlags.PciDevice | ConnectFlags.PciBridge | h, 1, 31),
            PciControllerModel.PciExpanderBus => (A | ConnectFlags.PciDevice | ConnectFlags.PciBridge | h, 0, 31),
            PciControllerModel.PcieRoot => (ConnectFlags.PcieDevice | ConnectFlags.PcieRootPort | ConnectFlags.DmiToPciBridge | ConnectFlags.PcieExpanderBus, 1, 31),
            PciControllerModel.DmiToPciBridge => (ConnectFlags.PciDevice | ConnectFlags.PciBridge, 0, 31),
            PciControllerModel.PcieToPciBridge => (A | ConnectFlags.PciDevice | ConnectFlags.PciBridge | h, 1, 31),
            PciControllerModel.PcieRootPort or PciControllerModel.PcieSwitchDownstreamPort =>
                (A | ConnectFlags.PcieDevice | ConnectFlags.PcieSwitchUpstreamPort | ConnectFlags.PcieToPciBridge | h, 0, 0),
            PciControllerModel.PcieSwitchUpstreamPort => (ConnectFlags.PcieSwitchDownstreamPort, 0, 31),
            PciControllerModel.PcieExpanderBus => (ConnectFlags.PcieRootPort | ConnectFlags.DmiToPciBridge, 0, 31),
            _ => (ConnectFlags.None, 0, 31),
        };
    }

    /// <summary>The QEMU device libvirt writes as &lt;model name=&gt; (qemuDomainPCIControllerSetDefaultModelName).</summary>
    public static string? DefaultModelName(this PciControllerModel model, QemuCapabilities caps) => model switch
    {
        PciControllerModel.PciBridge => "pci-bridge",
        PciControllerModel.DmiToPciBridge => "i82801b11-bridge",
        PciControllerModel.PcieToPciBridge => "pcie-pci-bridge",
        PciControllerModel.PcieRootPort => caps.Has(QemuCap.PcieRootPort) ? "pcie-root-port" : "ioh3420",
        PciControllerModel.PcieSwitchUpstreamPort => "x3130-upstream",
        PciControllerModel.PcieSwitchDownstreamPort => "xio3130-downstream",
        PciControllerModel.PciExpanderBus => "pxb",
        PciControllerModel.PcieExpanderBus => "pxb-pcie",
        _ => null,
    };

    /// <summary>Human words for a connect type, as libvirt's error messages use them.</summary>
    public static string Describe(ConnectFlags flags) =>
        (flags & ConnectFlags.PciDevice) != 0 ? "standard PCI device"
        : (flags & ConnectFlags.PcieDevice) != 0 ? "PCI Express device"
        : (flags & ConnectFlags.PcieRootPort) != 0 ? "pcie-root-port"
        : (flags & ConnectFlags.PcieSwitchUpstreamPort) != 0 ? "pcie-switch-upstream-port"
        : (flags & ConnectFlags.PcieSwitchDownstreamPort) != 0 ? "pcie-switch-downstream-port"
        : (flags & ConnectFlags.DmiToPciBridge) != 0 ? "dmi-to-pci-bridge"
        : (flags & ConnectFlags.PcieToPciBridge) != 0 ? "pcie-to-pci-bridge"
        : (flags & ConnectFlags.PciExpanderBus) != 0 ? "pci-expander-bus"
        : (flags & ConnectFlags.PcieExpanderBus) != 0 ? "pcie-expander-bus"
        : (flags & ConnectFlags.PciBridge) != 0 ? "pci-bridge"
        : "device";
}
