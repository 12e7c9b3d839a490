namespace LibvirtPci.Stability;

/// <summary>
/// Text order in which a run of digits compares by its number ("controller/pci/2" before
/// "controller/pci/10"), otherwise ordinal: how the ledger lists its keys, so that a reader finds
/// bus 2 between 1 and 3. Equal numbers written differently ("01", "1") fall back to ordinal order,
/// so the order is total and the same on every run.
/// </summary>
public sealed class NaturalOrder : IComparer<string>
{
    public static readonly NaturalOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                int endX = DigitsEnd(x, i), endY = DigitsEnd(y, j);
                var a = x.AsSpan(i, endX - i).TrimStart('0');
                var b = y.AsSpan(j, endY - j).TrimStart('0');
                // more significant digits is the larger number; as many: digit by digit
                int byNumber = a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.SequenceCompareTo(b);
                if (byNumber != 0) return byNumber;
                i = endX; j = endY;
                continue;
            }
            if (x[i] != y[j]) return x[i].CompareTo(y[j]);
            i++; j++;
        }
        int byLength = (x.Length - i).CompareTo(y.Length - j);
        return byLength != 0 ? byLength : string.CompareOrdinal(x, y);
    }

    private static int DigitsEnd(string s, int start)
    {
        while (start < s.Length && char.IsAsciiDigit(s[start])) start++;
        return start;
    }
}
