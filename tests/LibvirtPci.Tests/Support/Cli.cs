using System.Text;
using LibvirtPci.Cli;

namespace LibvirtPci.Tests.Support;

public sealed record CliResult(int ExitCode, byte[] StdoutBytes, string Stderr)
{
    public string Stdout => Encoding.UTF8.GetString(StdoutBytes);
}

/// <summary>Runs the CLI in-process with captured streams.</summary>
public static class Cli
{
    public static CliResult Run(params string[] args) => RunWithStdin(null, args);

    public static CliResult RunWithStdin(byte[]? stdin, params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        using var input = new MemoryStream(stdin ?? Array.Empty<byte>());
        int code = Commands.Run(args, stdout, stderr, input);
        return new CliResult(code, stdout.ToArray(), stderr.ToString());
    }
}

/// <summary>A scratch folder removed after the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("libvirt-pci-test-").FullName;

    public string File(string name, byte[] content)
    {
        var p = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        System.IO.File.WriteAllBytes(p, content);
        return p;
    }

    public string CopyFixture(string relative, string? name = null) =>
        File(name ?? System.IO.Path.GetFileName(relative), System.IO.File.ReadAllBytes(System.IO.Path.Combine(Paths.Fixtures, relative)));

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
