using System.Globalization;

namespace LibvirtPci.Domain;

/// <summary>A PCI address (domain:bus:slot.function). Prints as <c>0000:00:1f.2</c>.</summary>
public readonly record struct PciAddress(int Domain, int Bus, int Slot, int Function) : IComparable<PciAddress>
{
    public const int MaxSlot = 31;
    public const int MaxFunction = 7;

    public PciAddress(int bus, int slot, int function) : this(0, bus, slot, function) { }

    /// <summary>libvirt treats domain=bus=slot=0 as "no address yet" (the function is ignored).</summary>
    public bool IsEmpty => Domain == 0 && Bus == 0 && Slot == 0;

    public PciAddress WithFunction(int function) => this with { Function = function };

    public override string ToString()
    {
        if ((uint)Domain > 0xFFFF || (uint)Bus > 0xFF || (uint)Slot > 0xFF || (uint)Function > 0xF)
            return string.Create(CultureInfo.InvariantCulture, $"{Domain:x4}:{Bus:x2}:{Slot:x2}.{Function:x}");
        // Written digit by digit: an interpolated string would start the shared array pool and
        // look up the current culture in a one-file run, for a few hundred addresses at most.
        return string.Create(12, this, static (text, a) =>
        {
            Hex(text[..4], a.Domain);
            text[4] = ':';
            Hex(text.Slice(5, 2), a.Bus);
            text[7] = ':';
            Hex(text.Slice(8, 2), a.Slot);
            text[10] = '.';
            Hex(text[11..], a.Function);
        });
    }

    private static void Hex(Span<char> digits, int value)
    {
        for (int i = digits.Length - 1; i >= 0; i--, value >>= 4)
            digits[i] = "0123456789abcdef"[value & 0xF];
    }

    /// <summary>Parses <c>0000:00:1f.2</c> or <c>00:1f.2</c>.</summary>
    public static bool TryParse(string text, out PciAddress address)
    {
        address = default;
        var parts = text.Split(':');
        if (parts.Length is < 2 or > 3) return false;
        var last = parts[^1].Split('.');
        if (last.Length != 2) return false;
        int domain = 0;
        if (parts.Length == 3 && !TryHex(parts[0], 0xFFFF, out domain)) return false;
        if (!TryHex(parts[^2], 0xFF, out int bus) || !TryHex(last[0], MaxSlot, out int slot) || !TryHex(last[1], MaxFunction, out int fn))
            return false;
        address = new PciAddress(domain, bus, slot, fn);
        return true;
    }

    private static bool TryHex(string s, int max, out int value) =>
        int.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && value >= 0 && value <= max;

    /// <summary>The attributes libvirt writes: <c>type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'</c>.</summary>
    public IEnumerable<(string Name, string Value)> XmlAttributes(bool multifunction)
    {
        var domain = Domain == 0 ? "0x0000" : $"0x{Domain:x4}";
        (string, string)[] attributes = multifunction ? new (string, string)[6] : new (string, string)[5];
        attributes[0] = ("type", "pci");
        attributes[1] = ("domain", domain);
        attributes[2] = ("bus", Hex2[Bus & 0xFF]);
        attributes[3] = ("slot", Hex2[Slot & 0xFF]);
        attributes[4] = ("function", Hex1[Function & 0xF]);
        if (multifunction) attributes[5] = ("multifunction", "on");
        return attributes;
    }

    // libvirt's spellings of bus/slot (0x00..0xff) and function (0x0..0xf), made once.
    private static readonly string[] Hex2 = Enumerable.Range(0, 256).Select(i => $"0x{i:x2}").ToArray();
    private static readonly string[] Hex1 = Enumerable.Range(0, 16).Select(i => $"0x{i:x}").ToArray();

    public int CompareTo(PciAddress other)
    {
        int c = Domain.CompareTo(other.Domain);
        if (c != 0) return c;
        c = Bus.CompareTo(other.Bus);
        if (c != 0) return c;
        c = Slot.CompareTo(other.Slot);
        return c != 0 ? c : Function.CompareTo(other.Function);
    }

    /// <summary>
    /// Parses one numeric attribute the way libvirt does (strtoul base 0: 0x hex, leading-0 octal,
    /// else decimal). Returns null for a malformed value.
    /// </summary>
    public static long? ParseNumber(string text)
    {
        var s = text.Trim();
        if (s.Length == 0) return null;
        try
        {
            if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                return s.Length > 2 ? Convert.ToInt64(s[2..], 16) : null;
            if (s.Length > 1 && s[0] == '0')
                return Convert.ToInt64(s[1..], 8);
            return long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            return null;
        }
    }
}
