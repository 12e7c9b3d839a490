using System.Text;

namespace LibvirtPci.Xml;

/// <summary>
/// The input exactly as it was read: the original bytes, their decoded text, and enough
/// about the file's style (BOM, newline, quotes) to write new markup that fits in.
/// Offsets everywhere in the XML layer are indexes into <see cref="Text"/>.
/// </summary>
public sealed class SourceText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private int[]? _lineStarts;

    public string Name { get; }
    public byte[] Bytes { get; }
    public string Text { get; }
    public bool HasBom { get; }

    private SourceText(string name, byte[] bytes, string text, bool hasBom)
    {
        Name = name;
        Bytes = bytes;
        Text = text;
        HasBom = hasBom;
    }

    /// <summary>Decodes UTF-8 strictly; invalid bytes are an input error, never replaced.</summary>
    public static SourceText FromBytes(string name, byte[] bytes)
    {
        bool bom = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF;
        int start = bom ? 3 : 0;
        if (bytes.Length >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)))
            throw new InputException(name, "LP201", "UTF-16 input is not supported; convert the file to UTF-8", 1, 1);
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException e)
        {
            int at = start + (e.Index < 0 ? 0 : e.Index);
            var (line, col) = LineColumnOfByte(bytes, start, at);
            throw new InputException(name, "LP201", $"invalid UTF-8 at byte {at}", line, col);
        }
        return new SourceText(name, bytes, text, bom);
    }

    public static SourceText FromString(string name, string text, bool bom = false) =>
        new(name, EncodeUtf8(text, bom), text, bom);

    /// <summary>Encodes edited text the way the input was encoded (UTF-8, BOM kept).</summary>
    public byte[] Encode(string text) =>
        ReferenceEquals(text, Text) || text == Text ? Bytes : EncodeUtf8(text, HasBom);

    /// <summary>UTF-8 in one exact-size array, the BOM first when asked for.</summary>
    private static byte[] EncodeUtf8(string text, bool bom)
    {
        int start = bom ? 3 : 0;
        var bytes = new byte[start + StrictUtf8.GetByteCount(text)];
        if (bom) { bytes[0] = 0xEF; bytes[1] = 0xBB; bytes[2] = 0xBF; }
        StrictUtf8.GetBytes(text, bytes.AsSpan(start));
        return bytes;
    }

    /// <summary>The file's newline: CRLF if its first line break is CRLF, else LF.</summary>
    public string NewLine => _newLine ??= Text.IndexOf('\n') is var lf && lf > 0 && Text[lf - 1] == '\r' ? "\r\n" : "\n";
    private string? _newLine;

    private int[] LineStarts => _lineStarts ??= ComputeLineStarts(Text);

    /// <summary>Offsets where lines start (after LF, CR or CRLF), sized exactly: counted first, then filled.</summary>
    private static int[] ComputeLineStarts(string text)
    {
        var span = text.AsSpan();
        int breaks = span.Count('\n') + span.Count('\r') - span.Count("\r\n");
        var starts = new int[breaks + 1];
        int n = 1;
        for (int i = span.IndexOfAny('\r', '\n'); i >= 0;)
        {
            if (span[i] == '\r' && i + 1 < span.Length && span[i + 1] == '\n') i++;
            starts[n++] = i + 1;
            int next = span[(i + 1)..].IndexOfAny('\r', '\n');
            i = next < 0 ? -1 : i + 1 + next;
        }
        return starts;
    }

    /// <summary>1-based line and column of a text offset (columns count UTF-16 code units, like XmlReader).</summary>
    public (int Line, int Column) LineColumn(int offset)
    {
        var starts = LineStarts;
        int idx = Array.BinarySearch(starts, offset);
        if (idx < 0) idx = ~idx - 1;
        return (idx + 1, offset - starts[idx] + 1);
    }

    /// <summary>Text offset of a 1-based line/column pair as XmlReader reports it.</summary>
    public int Offset(int line, int column)
    {
        var starts = LineStarts;
        if (line < 1) return 0;
        if (line > starts.Length) return Text.Length;
        return Math.Min(Text.Length, starts[line - 1] + Math.Max(0, column - 1));
    }

    private static (int, int) LineColumnOfByte(byte[] bytes, int start, int at)
    {
        int line = 1, col = 1;
        for (int i = start; i < at && i < bytes.Length; i++)
        {
            if (bytes[i] == '\n') { line++; col = 1; }
            else if ((bytes[i] & 0xC0) != 0x80) col++;
        }
        return (line, col);
    }
}
