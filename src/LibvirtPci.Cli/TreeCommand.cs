using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Rendering;
using LibvirtPci.Stability;
using LibvirtPci.Xml;
using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

internal enum TreeFormat { Text, Dot, Svg, Json }

internal static class TreeCommand
{
    public static void Define(CommandLineApplication cmd, CommandContext ctx)
    {
        var file = cmd.Files("FILE", "domain XML file, or - for stdin", many: false);
        var libvirt = OptionValues.LibvirtOption(cmd);
        var format = new ValueOption<TreeFormat>(cmd, "--format <FORMAT>", "text (default), dot (Graphviz source), svg (needs Graphviz's dot), json",
            text => text switch { "text" => TreeFormat.Text, "dot" => TreeFormat.Dot, "svg" => TreeFormat.Svg, "json" => TreeFormat.Json, _ => null }, "text, dot, svg or json");
        var json = cmd.Flag("--json", "the same as --format json");
        cmd.OnExecute(() =>
        {
            var chosen = json.HasValue() ? TreeFormat.Json : format.Value ?? TreeFormat.Text;
            return OptionValues.TryParseLibvirt(ctx, libvirt, out var profile)
                ? Execute(ctx, file.Values.Count == 0 ? "-" : file.Values[0], profile, chosen) : ExitCode.InvalidInput;
        });
    }

    public static int Execute(CommandContext ctx, string path, LibvirtProfile? flag, TreeFormat format = TreeFormat.Text)
    {
        try
        {
            var input = ctx.Read(path);
            var domain = DomainDefinition.Parse(SourceText.FromBytes(input.Name, input.Bytes));
            var project = ProjectSettings.ForInput(path, new());
            var libvirt = LibvirtChoice.Resolve(flag, project);
            var ledger = AddressLedger.FindInMetadata(domain) is { } el ? AddressLedger.Read(domain.Document, el) : null;
            var released = ledger?.Entries.Where(e => e.Released && e.TakenBy is null).Select(e => (e.Address, e.Key));
            var topology = Topology.Build(domain, released);
            var io = global::LibvirtPci.Limits.IoSpaceBudget.Analyze(domain, FirmwareChoice.Resolve(null, project));
            switch (format)
            {
                case TreeFormat.Json:
                    ctx.Out.Write(TopologyFormats.ToJson(input.Name, domain, topology, io, (libvirt.Profile.ToString(), libvirt.From)));
                    break;
                case TreeFormat.Dot:
                    ctx.Out.Write(TopologyFormats.ToDot(Path.GetFileName(input.Name), domain, topology, io));
                    break;
                case TreeFormat.Svg:
                    return Svg(ctx, TopologyFormats.ToDot(Path.GetFileName(input.Name), domain, topology, io));
                default:
                    ctx.Out.Write(topology.Render());
                    if (TopologyFormats.IoSummary(io) is { } budget) ctx.Out.WriteLine(budget);
                    ctx.Out.WriteLine($"({libvirt})");
                    break;
            }
            return ExitCode.Ok;
        }
        catch (InputException e)
        {
            ctx.Report(e);
            return ExitCode.InvalidInput;
        }
    }

    /// <summary>SVG through Graphviz's dot, when it is installed; else say how to get it.</summary>
    private static int Svg(CommandContext ctx, string dot)
    {
        ctx.Out.Flush();
        var r = ProcessRunner.Run("dot", ["-Tsvg"], TimeSpan.FromMinutes(2), stdin: dot, stdoutTo: ctx.StdoutStream);
        if (r.ExitCode == 0) return ExitCode.Ok;
        ctx.Err.WriteLine(r.Started
            ? $"libvirt-pci: error LP111: dot failed: {(r.TimedOut ? r.Stderr : r.Error)}"
            : "libvirt-pci: error LP111: --format svg needs Graphviz's dot, which is not installed (apt-get install graphviz; or --format dot | dot -Tsvg elsewhere)");
        return ExitCode.InvalidInput;
    }
}
