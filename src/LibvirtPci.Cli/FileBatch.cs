using LibvirtPci.Domain;
using LibvirtPci.Xml;

namespace LibvirtPci.Cli;

internal enum FileStatus { Checked, Skipped, Failed }

/// <summary>
/// What one file produced: its stdout text (a view, a diff), its messages, bytes for stdout, its
/// JSON entry (only under --json: it may hold the whole plan, and a batch must not keep a thousand
/// plans alive) and exit code. Files are processed apart and printed in argument order.
/// </summary>
internal sealed record FileResult(FileStatus Status, bool Changed, int Exit, string? Stdout, IReadOnlyList<string> Stderr, byte[]? Bytes, Action<JsonReport>? Json)
{
    /// <summary>A file found in a directory that is not domain XML: skipped, not refused; a filter passes it through.</summary>
    public static FileResult Skipped(string name, byte[]? passThrough, bool json) =>
        new(FileStatus.Skipped, false, ExitCode.Ok, null, [], passThrough, json ? r => r.Skipped(name, "not a <domain>") : null);

    /// <summary>
    /// A fault of this file (bad input, I/O, a bug): its message, named as the user named the
    /// file, after whatever it said before; exit 2 or 3. The other files are still processed.
    /// </summary>
    public static FileResult Fault(string path, string name, Exception fault, List<string> said, bool json)
    {
        var message = Faults.AsMessage(name, fault);
        var located = (message.File == path || (path == "-" && message.File == "<stdin>")) && name != message.File ? message.Renamed(name) : message;
        said.Add(located.ToString());
        return new(FileStatus.Failed, false, Faults.ExitCodeOf(fault), null, said, null, json ? r => r.Failed(located) : null);
    }
}

/// <summary>
/// The file loop of assign, convert and lint: files, directories (their *.xml below, sorted;
/// a file there that is not domain XML is skipped), stdin as "-" or no argument; files processed
/// in parallel, reported in argument order; one bad file never stops the others; the JSON
/// report; a summary line for a batch; the worst exit code.
/// </summary>
internal static class FileBatch
{
    /// <summary>The inputs the arguments name: directories expanded, "-" when none.</summary>
    public static List<(string Path, bool Found)> Inputs(IReadOnlyList<string> args) =>
        FileIO.Expand(args.Count == 0 ? ["-"] : args).ToList();

    /// <param name="changed">the summary's word for a changed file ("changed", "to change", "with errors").</param>
    public static int Run(CommandContext ctx, List<(string Path, bool Found)> inputs, Func<string, bool, FileResult> processOne, bool json, string changed)
    {
        var results = new FileResult[inputs.Count];
        if (inputs.Count > 1)
            Parallel.For(0, inputs.Count, i => results[i] = processOne(inputs[i].Path, inputs[i].Found));
        else if (inputs.Count == 1)
            results[0] = processOne(inputs[0].Path, inputs[0].Found);
        return Report(ctx, results, json, changed, summary: inputs.Count > 1 || inputs.Any(i => i.Found));
    }

    /// <summary>
    /// One domain file of a batch: read (stdin under <paramref name="stdinName"/> when given),
    /// parsed once, skipped when a file found in a directory (or any, with
    /// <paramref name="skipNamed"/>) is not domain XML — passed through to stdout with
    /// <paramref name="passSkipped"/>, as a filter does — and any fault that file's message.
    /// <paramref name="body"/> gets the input, its name, the domain and the list of what it says.
    /// </summary>
    public static FileResult Domain(CommandContext ctx, string path, bool found, bool json, Func<InputFile, string, DomainDefinition, List<string>, FileResult> body,
        string? stdinName = null, bool skipNamed = false, bool passSkipped = false)
    {
        var said = new List<string>();
        string name = path;
        try
        {
            var input = ctx.Read(path);
            name = path == "-" && stdinName is { Length: > 0 } given ? given : input.Name;
            var doc = XmlSpanParser.Parse(SourceText.FromBytes(name, input.Bytes));
            if ((found || skipNamed) && !DomainDefinition.IsDomainRoot(doc))
                return FileResult.Skipped(name, passSkipped ? input.Bytes : null, json);
            return body(input, name, DomainDefinition.FromDocument(doc), said);
        }
        catch (Exception fault) when (Faults.IsReportable(fault))
        {
            return FileResult.Fault(path, name, fault, said, json);
        }
    }

    private static int Report(CommandContext ctx, FileResult[] results, bool json, string changed, bool summary)
    {
        int exit = ExitCode.Ok;
        var report = json ? new JsonReport() : null;
        foreach (var r in results)
        {
            if (r.Stdout is { } text) ctx.Out.Write(text);
            foreach (var line in r.Stderr) ctx.Err.WriteLine(line);
            if (r.Bytes is { } bytes)
            {
                ctx.Out.Flush();
                ctx.StdoutStream.Write(bytes);
                ctx.StdoutStream.Flush();
            }
            if (report is not null) r.Json?.Invoke(report);
            exit = Math.Max(exit, r.Exit);
        }
        if (report is not null) ctx.Out.Write(report.ToJson());
        if (summary)
        {
            int checkedFiles = results.Count(r => r.Status == FileStatus.Checked), skipped = results.Count(r => r.Status == FileStatus.Skipped);
            int failed = results.Count(r => r.Status == FileStatus.Failed), changes = results.Count(r => r.Changed);
            ctx.Err.WriteLine($"libvirt-pci: {checkedFiles} checked, {changes} {changed}, {failed} failed, {skipped} skipped (not domain XML)");
        }
        return exit;
    }
}
