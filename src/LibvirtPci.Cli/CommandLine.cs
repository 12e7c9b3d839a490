using System.Text;
using McMaster.Extensions.CommandLineUtils;
using McMaster.Extensions.CommandLineUtils.HelpText;

namespace LibvirtPci.Cli;

/// <summary>A usage error: the CLI prints it as <c>libvirt-pci: error LP001: ...</c> on stderr and exits 2.</summary>
public sealed class UsageException(string message, string command = "libvirt-pci") : Exception(message)
{
    /// <summary>The command whose --help explains the usage.</summary>
    public string Command { get; } = command;
}

/// <summary>The positional arguments of a command, with what follows <c>--</c> (McMaster keeps that apart).</summary>
public sealed class Positionals(CommandArgument argument, CommandLineApplication command)
{
    public IReadOnlyList<string> Values => [.. BeforeSeparator, .. AfterSeparator];

    public IReadOnlyList<string> BeforeSeparator => [.. argument.Values.OfType<string>()];

    public IReadOnlyList<string> AfterSeparator => command.RemainingArguments;

    /// <summary>The command they belong to (for its name in a usage error).</summary>
    public CommandLineApplication Command => command;
}

/// <summary>
/// McMaster.Extensions.CommandLineUtils (builder API: no reflection, so NativeAOT stays
/// warning-free) with this tool's conventions where McMaster's defaults differ:
/// <list type="bullet">
/// <item>a command name counts only as the first argument (<c>libvirt-pci vm.xml tree</c> is two
/// files): <see cref="Run"/> picks the command, McMaster parses that command's arguments;</item>
/// <item>usage errors go to stderr as one <c>LP001</c> line that names the command to ask and, from
/// McMaster's suggestions, what was probably meant; McMaster's hint and help never reach stdout
/// unless help was asked for;</item>
/// <item><c>--</c> ends options; <c>-</c> is an argument (stdin); options may follow arguments;</item>
/// <item>help in two columns wrapped at 100 (<see cref="HelpLayout"/>).</item>
/// </list>
/// </summary>
public static class CommandLine
{
    /// <summary>A named command, built only when it is the one that runs (a run builds one command, not the tree).</summary>
    public sealed record CommandSpec(string Name, string Description, Action<CommandLineApplication> Configure, string? ExtendedHelp = null);

    /// <summary>
    /// The tool: <see cref="DefaultCommand"/> builds the command that parses every argument list not
    /// starting with a command name; <see cref="Commands"/> are the named ones; <see cref="Title"/>
    /// heads the default command's help, which lists them.
    /// </summary>
    public sealed record Root(string Name, string Title, Func<IConsole, CommandLineApplication> DefaultCommand, IReadOnlyList<CommandSpec> Commands);

    /// <summary>A console whose Out collects McMaster's writes (help, version, its hints) until we know whether to show them.</summary>
    public sealed class BufferedConsole : IConsole
    {
        public StringWriter Buffer { get; } = new() { NewLine = "\n" };
        public TextWriter Out => Buffer;
        public TextWriter Error => TextWriter.Null;
        public TextReader In => TextReader.Null;
        public bool IsInputRedirected => true;
        public bool IsOutputRedirected => true;
        public bool IsErrorRedirected => true;
        public ConsoleColor ForegroundColor { get; set; }
        public ConsoleColor BackgroundColor { get; set; }
        public event ConsoleCancelEventHandler? CancelKeyPress { add { } remove { } }
        public void ResetColor() { }
    }

    /// <summary>A new command with this tool's conventions; <paramref name="console"/> is shared by the whole tree.</summary>
    public static CommandLineApplication NewCommand(IConsole console, string name, string description, string? version = null)
    {
        var app = new CommandLineApplication(console) { Name = name, Description = description };
        Configure(app);
        if (version is not null) app.VersionOption("--version", version).Description = "print the version";
        return app;
    }

    /// <summary>A subcommand of <paramref name="parent"/> with the same conventions.</summary>
    public static CommandLineApplication AddCommand(this CommandLineApplication parent, string name, string description,
        Action<CommandLineApplication> configure, string? extendedHelp = null) =>
        parent.Command(name, cmd =>
        {
            cmd.Description = description;
            cmd.ExtendedHelpText = extendedHelp;
            Configure(cmd);
            configure(cmd);
            // A command that only groups others (hook) has nothing to run by itself.
            if (cmd.Commands.Count > 0 && cmd.Arguments.Count == 0)
                cmd.OnExecute(new Func<int>(() => throw new UsageException($"{PathOf(cmd)} needs a command: {string.Join(", ", cmd.Commands.Select(c => c.Name))}", PathOf(cmd))));
        });

    private static void Configure(CommandLineApplication app)
    {
        app.AllowArgumentSeparator = true;
        app.MakeSuggestionsInErrorMessage = true;
        app.ClusterOptions = false;
        app.OptionsComparison = StringComparison.Ordinal;
        app.ResponseFileHandling = ResponseFileHandling.Disabled;
        app.HelpTextGenerator = HelpLayout.Instance;
        app.HelpOption("-h|--help").Description = "show this help";
    }

    public static CommandOption Flag(this CommandLineApplication app, string template, string description) =>
        app.Option(template, description, CommandOptionType.NoValue);

    public static CommandOption Valued(this CommandLineApplication app, string template, string description) =>
        app.Option(template, description, CommandOptionType.SingleValue);

    public static Positionals Files(this CommandLineApplication app, string name, string description, bool many = true) =>
        new(app.Argument(name, description, many), app);

    /// <summary>Runs the command the arguments name; help and version go to <paramref name="stdout"/>.</summary>
    public static int Run(Root root, IReadOnlyList<string> args, BufferedConsole console, TextWriter stdout)
    {
        // `help` and `help COMMAND` are --help (a file named help is ./help)
        if (args.Count is 1 or 2 && args[0] == "help" && (args.Count == 1 || root.Commands.Any(c => c.Name == args[1])))
            args = [.. args.Skip(1), "--help"];
        CommandLineApplication command;
        string[] rest;
        if (args.Count > 0 && root.Commands.FirstOrDefault(c => c.Name == args[0]) is { } named)
        {
            command = NewCommand(console, root.Name, "").AddCommand(named.Name, named.Description, named.Configure, named.ExtendedHelp);
            rest = args.Skip(1).ToArray();
        }
        else
        {
            if (args.Count > 0 && MistypedCommand(root, console, args[0]) is { } near)
                throw new UsageException($"'{args[0]}' is neither a command nor a file; did you mean '{near}'?", root.Name);
            command = root.DefaultCommand(console);
            command.HelpTextGenerator = new HelpLayout(root.Title, root.Commands);
            rest = args.ToArray();
        }
        try
        {
            int code = command.Execute(rest);
            stdout.Write(console.Buffer.ToString());
            return code;
        }
        catch (CommandParsingException e)
        {
            throw Translate(e);
        }
    }

    /// <summary>A command McMaster thinks <paramref name="word"/> was meant to be, when no file of that name exists.</summary>
    private static string? MistypedCommand(Root root, BufferedConsole console, string word)
    {
        // a word with a dot or a slash names a file (vm.xml, ./vms): a missing one is LP100, not a typo of a command
        if (word.StartsWith('-') || word.Contains('.') || word.Contains('/') || File.Exists(word) || Directory.Exists(word)) return null;
        var names = new CommandLineApplication(console) { Name = root.Name, MakeSuggestionsInErrorMessage = true };
        foreach (var c in root.Commands) names.Command(c.Name, _ => { });
        try
        {
            names.Parse(word);
        }
        catch (UnrecognizedCommandParsingException e)
        {
            return e.NearestMatches.FirstOrDefault();
        }
        catch (CommandParsingException)
        {
        }
        finally
        {
            console.Buffer.GetStringBuilder().Clear(); // McMaster's hint for the probe
        }
        return null;
    }

    /// <summary>
    /// The quoted values of one of McMaster 2.3.0's parse error messages, or null when
    /// <paramref name="message"/> is not of that form: <paramref name="parts"/> are the text around
    /// them ("Missing value for option '", "'" → the option's name). A quoted value holds no quote,
    /// as in McMaster's messages. (No Regex: it would link System.Text.RegularExpressions into the
    /// binary, 51 more static bases at every start, for a message that is printed once.)
    /// </summary>
    internal static string[]? McMasterMessage(string message, params string[] parts)
    {
        var values = new string[parts.Length - 1];
        int at = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            if (string.CompareOrdinal(message, at, parts[i], 0, parts[i].Length) != 0) return null;
            at += parts[i].Length;
            if (i == values.Length) break;
            int end = message.IndexOf('\'', at);
            if (end < 0) return null;
            values[i] = message[at..end];
            at = end;
        }
        return values;
    }

    /// <summary>McMaster's parse errors, in the wording of this tool's usage errors (pinned to 2.3.0 by CommandLineTests).</summary>
    private static UsageException Translate(CommandParsingException e)
    {
        var command = PathOf(e.Command);
        var message = e.Message.Split('\n')[0].TrimEnd();
        if (McMasterMessage(message, "Missing value for option '", "'") is [var needed] && FindOption(e.Command, needed) is { } needy)
            return new UsageException($"option '{Spell(needy)}' needs a value <{needy.ValueName}>", command);
        if (McMasterMessage(message, "Unexpected value '", "' for option '", "'") is [var value, var name] && FindOption(e.Command, name) is { } option)
            return new UsageException(option.OptionType == CommandOptionType.NoValue
                ? $"option '{Spell(option)}' takes no value"
                : $"option '{Spell(option)}' is given twice ('{value}')", command);
        var unknownOption = McMasterMessage(message, "Unrecognized option '", "'");
        if ((unknownOption ?? McMasterMessage(message, "Unrecognized command or argument '", "'")) is [var arg])
        {
            var near = e is UnrecognizedCommandParsingException { NearestMatches: var matches } ? matches.FirstOrDefault() : null;
            var hint = near is null ? "" : $"; did you mean '{(arg.StartsWith('-') && !near.StartsWith('-') ? "--" + near : near)}'?";
            if (unknownOption is not null) return new UsageException($"{command} has no option '{arg}'{hint}", command);
            if (e.Command.Arguments is [{ MultipleValues: false } single, ..] && single.Values.Count > 0)
                return new UsageException($"{command} takes one {single.Name}", command);
            return new UsageException($"{command} takes no argument '{arg}'{hint}", command);
        }
        return new UsageException(message, command);
    }

    private static CommandOption? FindOption(CommandLineApplication app, string name) =>
        app.GetOptions().FirstOrDefault(o => o.LongName == name || o.ShortName == name || o.SymbolName == name);

    private static string Spell(CommandOption o) => o.LongName is { } l ? "--" + l : "-" + o.ShortName;

    /// <summary>"libvirt-pci hook install": the names from the root down.</summary>
    public static string PathOf(CommandLineApplication app) => app.Parent is null ? app.Name! : PathOf(app.Parent) + " " + app.Name;

    /// <summary>
    /// The --help layout: title or description, usage, then arguments, options and commands in two
    /// columns (descriptions wrapped at 100 columns under their column), then the extended help.
    /// </summary>
    /// <param name="title">for the default command: the first line, before its version</param>
    /// <param name="rootCommands">for the default command: the commands its help lists</param>
    public sealed class HelpLayout(string? title = null, IReadOnlyList<CommandSpec>? rootCommands = null) : IHelpTextGenerator
    {
        public static readonly HelpLayout Instance = new();
        private const int Width = 100;

        public void Generate(CommandLineApplication app, TextWriter output) => output.Write(Help(app));

        public string Help(CommandLineApplication app)
        {
            var commands = rootCommands ?? app.Commands.Select(c => new CommandSpec(c.Name!, c.Description ?? "", _ => { })).ToList();
            var path = PathOf(app);
            var help = new StringBuilder();
            help.Append(title is null ? $"{app.Description}\n\n" : $"{title} {app.ShortVersionGetter?.Invoke()}".TrimEnd() + "\n\n");
            var argument = app.Arguments.FirstOrDefault();
            help.Append($"Usage: {path} [options]{(argument is null ? "" : $" [{argument.Name}{(argument.MultipleValues ? "..." : "")}]")}\n");
            if (commands.Count > 0) help.Append($"       {path} COMMAND [options] ...\n");

            var rows = new List<(string Section, string Left, string Right)>();
            foreach (var a in app.Arguments) rows.Add(("Arguments", a.Name!, a.Description ?? ""));
            foreach (var o in app.Options.Where(o => o.ShowInHelpText))
                rows.Add(("Options", (o.ShortName is null ? "" : $"-{o.ShortName}, ") + $"--{o.LongName}" + (o.ValueName is null ? "" : $" <{o.ValueName}>"), o.Description ?? ""));
            foreach (var c in commands) rows.Add(("Commands", c.Name, c.Description));
            int width = rows.Max(r => r.Left.Length) + 2;
            string? section = null;
            foreach (var (s, left, right) in rows)
            {
                if (s != section) help.Append($"\n{section = s}:\n");
                help.Append("  ").Append(left.PadRight(width));
                AppendWrapped(help, right, indent: width + 2);
            }
            if (commands.Count > 0) help.Append($"\nRun '{path} help COMMAND' (or '{path} COMMAND --help') for more about a command.\n");
            if (app.ExtendedHelpText is { } extended) help.Append(extended).Append(extended.EndsWith('\n') ? "" : "\n");
            return help.ToString();
        }

        /// <summary>Appends <paramref name="text"/> in words, wrapped at <see cref="Width"/> under a hanging indent.</summary>
        private static void AppendWrapped(StringBuilder help, string text, int indent)
        {
            int column = indent;
            foreach (var word in text.Split(' '))
            {
                if (column + word.Length + 1 > Width && column > indent)
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
}
