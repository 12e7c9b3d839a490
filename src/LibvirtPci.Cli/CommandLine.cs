using System.Text;

namespace LibvirtPci.Cli;

/// <summary>A usage error: the CLI prints it as <c>libvirt-pci: error LP001: ...</c> and exits 2.</summary>
public sealed class UsageException(string message, string command = "libvirt-pci") : Exception(message)
{
    /// <summary>The command whose --help explains the usage.</summary>
    public string Command { get; } = command;
}

/// <summary>
/// One option: a flag (<c>--check</c>) or an option with a value (<c>--ledger PATH</c>,
/// <c>--ledger=PATH</c>). Holds what the parse found; a parse builds its commands afresh.
/// </summary>
public sealed class CliOption
{
    internal CliOption(string? shortName, string longName, string? valueName, string description) =>
        (ShortName, LongName, ValueName, Description) = (shortName, longName, valueName, description);

    public string? ShortName { get; }
    public string LongName { get; }
    /// <summary>Null for a flag.</summary>
    public string? ValueName { get; }
    public string Description { get; }
    public bool IsSet { get; internal set; }
    /// <summary>The value given (the last one, if given twice); null for a flag or when absent.</summary>
    public string? Value { get; internal set; }

    internal string Spelling => (ShortName is null ? "" : ShortName + ", ") + LongName + (ValueName is null ? "" : $" <{ValueName}>");
}

/// <summary>The positional arguments of a command (files, domain names).</summary>
public sealed class CliArguments(string name, string description, bool many)
{
    public string Name { get; } = name;
    public string Description { get; } = description;
    /// <summary>False when the command takes at most one.</summary>
    public bool Many { get; } = many;
    public List<string> Values { get; } = [];
}

/// <summary>
/// The command line, parsed by hand: GNU-style long options anywhere among the arguments,
/// <c>--</c> ends options, <c>-</c> is an argument (stdin), a subcommand name counts only before
/// the first argument. It replaced McMaster.Extensions.CommandLineUtils, whose startup (its types,
/// its value parsers) was about a tenth of a one-file run (README, performance).
/// </summary>
public sealed class CliCommand
{
    private readonly List<CliOption> _options = [];
    private readonly List<CliCommand> _commands = [];
    private readonly CliCommand? _parent;
    private Func<int>? _handler;

    public CliCommand(string name, string description) : this(name, description, null) { }

    private CliCommand(string name, string description, CliCommand? parent) => (Name, Description, _parent) = (name, description, parent);

    public string Name { get; }
    public string Description { get; }
    /// <summary>Printed after the option list: examples, exit codes, what the command does.</summary>
    public string? ExtendedHelp { get; init; }
    /// <summary>The root's title line in --help, and what --version prints.</summary>
    public string? Title { get; init; }
    public string? Version { get; init; }
    public CliArguments? Arguments { get; private set; }

    private string Path => _parent is null ? Name : _parent.Path + " " + Name;

    /// <summary>Adds an option from its spelling: <c>"-i|--in-place"</c> (a flag) or <c>"--ledger &lt;PATH&gt;"</c> (with a value).</summary>
    public CliOption Option(string template, string description)
    {
        string? valueName = null, shortName = null;
        int space = template.IndexOf(' ');
        if (space >= 0) (valueName, template) = (template[(space + 1)..].Trim('<', '>'), template[..space]);
        var names = template.Split('|');
        if (names.Length == 2) shortName = names[0];
        var option = new CliOption(shortName, names[^1], valueName, description);
        _options.Add(option);
        return option;
    }

    public CliArguments Argument(string name, string description, bool many = true) => Arguments = new CliArguments(name, description, many);

    public CliCommand Command(string name, string description, Action<CliCommand> configure, string? extendedHelp = null)
    {
        var command = new CliCommand(name, description, this) { ExtendedHelp = extendedHelp };
        configure(command);
        _commands.Add(command);
        return command;
    }

    public void OnExecute(Func<int> handler) => _handler = handler;

    /// <summary>Parses <paramref name="args"/> and runs the command they name; help and version go to <paramref name="stdout"/>.</summary>
    public int Execute(IReadOnlyList<string> args, TextWriter stdout)
    {
        var command = this;
        bool optionsEnded = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (optionsEnded || arg == "-" || !arg.StartsWith('-'))
            {
                if (!optionsEnded && command.Arguments is not { Values.Count: > 0 } && command.FindCommand(arg) is { } sub)
                {
                    command = sub;
                    continue;
                }
                if (command.Arguments is not { } arguments) throw new UsageException($"{command.Path} takes no argument '{arg}'", command.Path);
                if (!arguments.Many && arguments.Values.Count == 1) throw new UsageException($"{command.Path} takes one {arguments.Name}", command.Path);
                arguments.Values.Add(arg);
                continue;
            }
            if (arg == "--")
            {
                optionsEnded = true;
                continue;
            }
            if (arg is "-h" or "--help")
            {
                stdout.Write(command.Help());
                return ExitCode.Ok;
            }
            if (arg == "--version" && command.Version is { } version)
            {
                stdout.Write(version + "\n");
                return ExitCode.Ok;
            }
            int equals = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=') : -1;
            string name = equals < 0 ? arg : arg[..equals];
            var option = command.FindOption(name) ?? throw new UsageException($"{command.Path} has no option '{name}'", command.Path);
            option.IsSet = true;
            if (option.ValueName is null)
            {
                if (equals >= 0) throw new UsageException($"option '{name}' takes no value", command.Path);
                continue;
            }
            if (equals >= 0) option.Value = arg[(equals + 1)..];
            else if (i + 1 < args.Count) option.Value = args[++i];
            else throw new UsageException($"option '{name}' needs a value <{option.ValueName}>", command.Path);
        }
        if (command._handler is null)
            throw new UsageException($"{command.Path} needs a command: {string.Join(", ", command._commands.Select(c => c.Name))}", command.Path);
        return command._handler();
    }

    private CliOption? FindOption(string name)
    {
        foreach (var o in _options)
            if (o.LongName == name || o.ShortName == name) return o;
        return null;
    }

    private CliCommand? FindCommand(string name)
    {
        foreach (var c in _commands)
            if (c.Name == name) return c;
        return null;
    }

    /// <summary>The --help text: usage, arguments, options and commands in two columns, then the extended help.</summary>
    public string Help()
    {
        var help = new StringBuilder();
        help.Append(_parent is null && Title is not null ? $"{Title} {Version}\n\n" : $"{Description}\n\n");
        string arguments = Arguments is null ? "" : $" [{Arguments.Name}{(Arguments.Many ? "..." : "")}]";
        help.Append($"Usage: {Path} [options]{arguments}\n");
        if (_commands.Count > 0) help.Append($"       {Path} COMMAND [options] ...\n");

        var rows = new List<(string Section, string Left, string Right)>();
        if (Arguments is not null) rows.Add(("Arguments", Arguments.Name, Arguments.Description));
        rows.Add(("Options", "-h, --help", "show this help"));
        if (Version is not null) rows.Add(("Options", "--version", "print the version"));
        foreach (var o in _options) rows.Add(("Options", o.Spelling, o.Description));
        foreach (var c in _commands) rows.Add(("Commands", c.Name, c.Description));
        int width = rows.Max(r => r.Left.Length) + 2;
        string? section = null;
        foreach (var (s, left, right) in rows)
        {
            if (s != section) help.Append($"\n{section = s}:\n");
            help.Append("  ").Append(left.PadRight(width));
            AppendWrapped(help, right, indent: width + 2);
        }
        if (_commands.Count > 0) help.Append($"\nRun '{Path} COMMAND --help' for more about a command.\n");
        if (ExtendedHelp is not null) help.Append(ExtendedHelp).Append(ExtendedHelp.EndsWith('\n') ? "" : "\n");
        return help.ToString();
    }

    private const int HelpWidth = 100;

    /// <summary>Appends <paramref name="text"/> in words, wrapped at <see cref="HelpWidth"/> under a hanging indent.</summary>
    private static void AppendWrapped(StringBuilder help, string text, int indent)
    {
        int column = indent;
        foreach (var word in text.Split(' '))
        {
            if (column + word.Length + 1 > HelpWidth && column > indent)
            {
                help.Append('\n').Append(' ', indent);
                column = indent;
            }
            else if (column > indent)
            {
                help.Append(' ');
                column++;
            }
            help.Append(word);
            column += word.Length;
        }
        help.Append('\n');
    }
}
