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
    }

    public override string ToString() => Diagnostic.Format(File, Line, Column, "error", Code, Message);
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
