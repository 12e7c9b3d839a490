namespace LibvirtPci;

/// <summary>
/// Input the tool refuses: bad XML, a DOCTYPE, a non-domain root, an address libvirt would
/// reject. Carries an LP code and, where known, the place in the file. The CLI prints it as
/// <c>FILE:LINE:COL: error LPnnn: text</c> and exits 2.
/// </summary>
public sealed class InputException : Exception
{
    public string File { get; }
    public string Code { get; }
    public int Line { get; }
    public int Column { get; }

    public InputException(string file, string code, string message, int line = 0, int column = 0)
        : base(message)
    {
        File = file;
        Code = code;
        Line = line;
        Column = column;
        Errors = [new Finding(code, Severity.Error, message, line, column)];
    }

    /// <summary>Several refusals found in one file, in line order: the first is this exception's own.</summary>
    public InputException(string file, IReadOnlyList<Finding> errors)
        : this(file, errors[0].Code, errors[0].Message, errors[0].Line, errors[0].Column) => Errors = errors;

    /// <summary>Every error found (at least this exception's own), each with its fix where one exists.</summary>
    public IReadOnlyList<Finding> Errors { get; }

    /// <summary>The same refusal, reported under another file name (the user's, not a temporary one).</summary>
    public InputException Renamed(string file) => new(file, Errors);

    /// <summary>One <c>FILE:LINE:COL: error LPnnn: text</c> line per error.</summary>
    public override string ToString() => string.Join("\n", Errors.Select(e => e.Format(File)));
}

/// <summary>One message in the conventional compiler format.</summary>
public static class Diagnostic
{
    public static string Format(string file, int line, int column, string severity, string code, string message)
    {
        var where = line > 0 ? $"{file}:{line}:{Math.Max(column, 1)}" : file;
        return $"{where}: {severity} {code}: {message}";
    }
}
