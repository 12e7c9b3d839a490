namespace LibvirtPci.Cli;

/// <summary>Streams a command writes to, injectable for tests.</summary>
public sealed record CommandContext(Stream StdoutStream, TextWriter Out, TextWriter Err, Stream? Stdin)
{
    /// <summary>A file or stdin ("-"), as every command reads its inputs (and where the fault tests inject theirs).</summary>
    public InputFile Read(string path)
    {
        var input = FileIO.Read(path, Stdin);
        Faults.Injected(input.Name);
        return input;
    }

    public void Report(InputException e) => Err.WriteLine(e.ToString());
}
