using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

/// <summary>
/// The console McMaster writes help and usage errors to: our own UTF-8 writers, so that a run
/// never pays for System.Console working out the terminal's encoding (PhysicalConsole does).
/// </summary>
internal sealed class StreamConsole(TextWriter @out, TextWriter error) : IConsole
{
    private TextReader? _in;

    public TextWriter Out => @out;
    public TextWriter Error => error;
    public TextReader In => _in ??= new StreamReader(Console.OpenStandardInput());
    public bool IsInputRedirected => Console.IsInputRedirected;
    public bool IsOutputRedirected => Console.IsOutputRedirected;
    public bool IsErrorRedirected => Console.IsErrorRedirected;
    public ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
    public ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;

    public event ConsoleCancelEventHandler? CancelKeyPress
    {
        add => Console.CancelKeyPress += value;
        remove => Console.CancelKeyPress -= value;
    }

    public void ResetColor() { } // we never colour output
}
