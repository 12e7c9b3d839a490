using System.Globalization;
using LibvirtPci.Domain;

namespace LibvirtPci.Tests.Addressing;

/// <summary>An address prints as libvirt and lspci write it (DDDD:BB:SS.F, lower-case hex) and parses back; random addresses, seeded.</summary>
public sealed class PciAddressTextTests
{
    [Fact]
    public void Every_address_prints_as_the_format_string_would_and_parses_back()
    {
        var rng = new Random(11);
        for (int i = 0; i < 20_000; i++)
        {
            var a = new PciAddress(rng.Next(3) == 0 ? rng.Next(0x10000) : 0, rng.Next(0x100), rng.Next(32), rng.Next(8));
            var text = a.ToString();
            Assert.Equal(string.Format(CultureInfo.InvariantCulture, "{0:x4}:{1:x2}:{2:x2}.{3:x}", a.Domain, a.Bus, a.Slot, a.Function), text);
            Assert.True(PciAddress.TryParse(text, out var back));
            Assert.Equal(a, back);
        }
    }

    [Theory]
    [InlineData(0x10000, 0, 0, 0, "10000:00:00.0")]
    [InlineData(0, 0x100, 0, 0, "0000:100:00.0")]
    [InlineData(0, 0, 0, 0x10, "0000:00:00.10")]
    [InlineData(-1, 0, 0, 0, "ffffffff:00:00.0")]
    public void A_field_wider_than_its_place_is_printed_whole(int domain, int bus, int slot, int function, string expected) =>
        Assert.Equal(expected, new PciAddress(domain, bus, slot, function).ToString());
}
