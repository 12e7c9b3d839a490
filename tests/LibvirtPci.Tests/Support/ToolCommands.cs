namespace LibvirtPci.Tests.Support;

/// <summary>
/// Every way the tool rewrites a domain, as a user runs it (the CLI, stdin to stdout), for the
/// fixed-point and agreement properties: run on its own output with the same flags, each must
/// exit 0 and give the same bytes.
/// </summary>
public static class ToolCommands
{
    public sealed record Command(string Name, string[] Args)
    {
        /// <summary>Whether the command applies to a domain: ACPI indexes need &lt;acpi/&gt;, io-reserve is about q35's ports.</summary>
        public bool AppliesTo(string xml) => Name switch
        {
            "acpi-index" => xml.Contains("<acpi/>", StringComparison.Ordinal),
            _ => true,
        };

        public CliResult Run(string xml, string libvirt) =>
            Cli.RunWithStdin(System.Text.Encoding.UTF8.GetBytes(xml), [.. Args, "--libvirt-version", libvirt]);

        public override string ToString() => Name;
    }

    public static readonly IReadOnlyList<Command> All =
    [
        new("assign", []),
        new("stable", ["--stable"]),
        new("stable spare-ports 2", ["--stable", "--spare-ports", "2"]),
        new("spare-ports 2", ["--spare-ports", "2"]),
        new("io-reserve off", ["--io-reserve", "off"]),
        new("io-reserve per-port", ["--io-reserve", "per-port"]),
        new("acpi-index", ["--acpi-index"]),
        new("convert", ["convert", "--to", "q35"]),
    ];

    /// <summary>
    /// Runs <paramref name="command"/> on <paramref name="xml"/> and again on its output: null when
    /// the output is a fixed point (or the first run refused the input, exit 2 — what libvirt thinks
    /// of that input is the daemon harness's question), else what went wrong.
    /// </summary>
    public static (CliResult First, string? Failure) FixedPoint(Command command, string xml, string libvirt)
    {
        var first = command.Run(xml, libvirt);
        if (first.ExitCode == 2) return (first, null);
        if (first.ExitCode != 0) return (first, $"{command}: exit {first.ExitCode}: {first.Stderr.Trim()}");
        var second = command.Run(first.Stdout, libvirt);
        if (second.ExitCode != 0) return (first, $"{command}: its own output gets exit {second.ExitCode}: {second.Stderr.Trim()}");
        if (!second.StdoutBytes.AsSpan().SequenceEqual(first.StdoutBytes))
            return (first, $"{command}: its own output changes on a second run:\n" + TextDiff.Unified(first.Stdout, second.Stdout));
        return (first, null);
    }
}
