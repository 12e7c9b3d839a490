namespace LibvirtPci.Cli;

/// <summary>Streams a command writes to, injectable for tests.</summary>
public sealed record CommandContext(Stream StdoutStream, TextWriter Out, TextWriter Err, Stream? Stdin)
{
    public InputFile Read(string path) => FileIO.Read(path, Stdin);

    public void Report(InputException e) => Err.WriteLine(e.ToString());
}
