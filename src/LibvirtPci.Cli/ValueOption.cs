using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

/// <summary>
/// An option with a value, declared once: its template and help (McMaster's, so --help, the
/// manual page and the completions show them) with how its text becomes a value. A text it
/// cannot read is a usage error (LP001, exit 2, "see COMMAND --help"), raised where the command
/// reads it: no command validates values by hand.
/// </summary>
internal sealed class ValueOption<T>(CommandLineApplication command, string template, string help, Func<string, T?> read, string expected) where T : struct
{
    private readonly CommandOption _option = command.Valued(template, help);

    /// <summary>The value, or null when the option is not given.</summary>
    public T? Value => _option.Value() is not { } text ? null
        : read(text) ?? throw new UsageException($"--{_option.LongName} takes {expected}, not '{text}'", CommandLine.PathOf(command));
}
