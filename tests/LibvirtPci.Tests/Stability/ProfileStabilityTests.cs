using LibvirtPci.Addressing;
using LibvirtPci.Passthrough;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Support;
using LibvirtPci.Tools;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Stability;

/// <summary>
/// A profile never moves an address the file or the ledger already has: domains addressed (with a
/// ledger) under one libvirt, then rewritten under every other known X.Y — with a NIC added, with
/// io-reserve and spare ports — keep every address; the ledger scenario holds under each profile.
/// </summary>
public sealed class ProfileStabilityTests
{
    public static IEnumerable<object[]> Versions() =>
        new[] { "7.0", "7.3", "8.0", "9.0", "9.1", "10.0", "10.2", "10.4", "11.0", "11.3" }.Select(v => new object[] { v });

    [Theory]
    [MemberData(nameof(Versions))]
    public void Every_profile_keeps_the_addresses_a_file_and_its_ledger_have(string version)
    {
        var profile = LibvirtProfile.For(Version.Parse(version));
        for (int seed = 1; seed <= 24; seed++)
        {
            var xml = new DomainGenerator(seed).Generate(new DomainGenerator.Options(Machine: seed % 2 == 0 ? "q35" : "pc"));
            var first = Rewriter.Assign(SourceText.FromString("d.xml", xml), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, Stable = true }).Text; // addressed under 9.0
            var before = PciFacts.Of(first);
            var nic = $"<interface type='network'><mac address='52:54:00:ee:00:{seed:x2}'/><source network='default'/><model type='virtio'/></interface>\n  </devices>";
            var edited = first.Replace("</devices>", nic, StringComparison.Ordinal);
            foreach (var options in new[]
            {
                new RewriteOptions { Libvirt = profile },
                new RewriteOptions { Libvirt = profile, IoReserve = IoReserveMode.PerPort, SparePorts = 2 },
            })
            {
                var after = PciFacts.Of(Rewriter.Assign(SourceText.FromString("d.xml", edited), options).Text);
                // the address itself; multifunction='on' may be added when a new port fills the slot's next function
                static string Place(string fact) => fact.Replace(" multi", "", StringComparison.Ordinal);
                foreach (var (key, value) in before)
                    Assert.True(after.TryGetValue(key, out var now) && Place(now) == Place(value), $"libvirt {version}, seed {seed}: {key} was {value}, now {(now ?? "gone")}");
            }
        }
    }
}
