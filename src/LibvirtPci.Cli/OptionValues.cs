using LibvirtPci.Addressing;
using LibvirtPci.Passthrough;
using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

/// <summary>The options several commands share (assign, convert, migrate, lint, tree), each declared here once.</summary>
internal static class OptionValues
{
    public static CommandOption AcpiIndexOption(CommandLineApplication app) =>
        app.Flag("--acpi-index", "give every <interface> an <acpi index='N'/> (libvirt >= 7.3), kept in the ledger like addresses: Linux names the NIC enoN wherever its slot goes");

    public static CommandOption LibvirtOption(CommandLineApplication app) =>
        app.Valued("--libvirt-version <X.Y>", "the libvirt whose choices to reproduce: 7.0 to 12.9 (newer ones get 12.9's, with a warning); default: the .libvirt-pci.json found above each file, else the installed libvirt, else 12.9");

    /// <summary>--libvirt-version: null when not given; an older one or a non-version is LP002 (exit 2), a newer one LP003 and the newest profile.</summary>
    public static bool TryParseLibvirt(CommandContext ctx, CommandOption option, out LibvirtProfile? libvirt)
    {
        libvirt = null;
        if (option.Value() is not { } wanted) return true;
        if (LibvirtProfile.Parse(wanted, out var error, out bool newer) is not { } profile)
        {
            ctx.Err.WriteLine($"libvirt-pci: error LP002: --libvirt-version: {error}");
            return false;
        }
        if (newer) ctx.Err.WriteLine($"libvirt-pci: warning LP003: {LibvirtProfile.NewerThanKnown($"libvirt {wanted}")}");
        libvirt = profile;
        return true;
    }

    /// <summary>The --io-reserve / "ioReserve" words.</summary>
    public static IoReserveMode? IoReserveModeOf(string word) => word switch
    {
        "off" => IoReserveMode.Off,
        "per-port" => IoReserveMode.PerPort,
        "remove" => IoReserveMode.Remove,
        _ => null,
    };

    public static ValueOption<int> SparePorts(CommandLineApplication app) => new(app, "--spare-ports <N>",
        "keep N empty hotplug pcie-root-ports at the end (q35)",
        text => int.TryParse(text, out var n) && n is >= 0 and <= 240 ? n : null, "a number from 0 to 240");

    public static ValueOption<IoReserveMode> IoReserve(CommandLineApplication app) => new(app, "--io-reserve <MODE>",
        "off: add -global pcie-root-port.io-reserve=0 (<qemu:commandline>); per-port: <qemu:override> io-reserve=0 only on root ports whose devices need no I/O (libvirt >= 8.2); remove: take our injection out again",
        IoReserveModeOf, "off, per-port or remove");
}
