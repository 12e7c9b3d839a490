using System.Text;
using LibvirtPci.Cli;

namespace LibvirtPci.Tests.Support;

public sealed record CliResult(int ExitCode, byte[] StdoutBytes, string Stderr)
{
    public string Stdout => Encoding.UTF8.GetString(StdoutBytes);
}

/// <summary>
/// Runs the CLI with captured streams: in-process, or — when LIBVIRT_PCI_BINARY names a built
/// binary (the NativeAOT one in CI) — as a real process, so the same tests prove that binary.
/// </summary>
public static class Cli
{
    public static string? ExternalBinary => Environment.GetEnvironmentVariable("LIBVIRT_PCI_BINARY") is { Length: > 0 } b ? b : null;

    public static CliResult Run(params string[] args) => RunWithStdin(null, args);

    public static CliResult RunWithStdin(byte[]? stdin, params string[] args)
    {
        if (ExternalBinary is { } binary) return RunProcess(binary, stdin, args);
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        using var input = new MemoryStream(stdin ?? Array.Empty<byte>());
        int code = Commands.Run(args, stdout, stderr, input);
        return new CliResult(code, stdout.ToArray(), stderr.ToString());
    }

    private static CliResult RunProcess(string binary, byte[]? stdin, string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(binary) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var outTask = Task.Run(() =>
        {
            using var ms = new MemoryStream();
            p.StandardOutput.BaseStream.CopyTo(ms);
            return ms.ToArray();
        });
        if (stdin is not null) p.StandardInput.BaseStream.Write(stdin);
        p.StandardInput.Close();
        p.WaitForExit();
        return new CliResult(p.ExitCode, outTask.Result, err.Result);
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
