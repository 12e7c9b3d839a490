using LibvirtPci.Tests.Support;
using LibvirtPci.Tools;
using Xunit.Abstractions;

namespace LibvirtPci.Tests.Stability;

/// <summary>
/// The tool agrees with itself: for domains with the patterns real ones have (the generator's wild
/// mode: USB2 sets whole, partial and alone, functions above 0 with function 0 open, explicit ports
/// and bridges, IDE next to SATA, virt-install's defaults, NICs without MAC, controllers without
/// index), under every profile, every command's output run again with the same flags is exit 0 and
/// byte-identical. Offline; the daemon harness (DifferentialHarnessTests) adds libvirt's side.
/// </summary>
public sealed class FixedPointPropertyTests(ITestOutputHelper output)
{
    public const int Domains = 120;

    [Theory]
    [InlineData("7.0")]
    [InlineData("9.0")]
    [InlineData("11.3")]
    [InlineData("12.9")]
    public void Every_command_s_output_is_a_fixed_point(string libvirt)
    {
        var failures = new List<string>();
        int runs = 0, refused = 0;
        bool newer = Version.Parse(libvirt) >= new Version(10, 4);
        for (int seed = 1; seed <= Domains; seed++)
        {
            var xml = new DomainGenerator(seed).Generate(new DomainGenerator.Options(Wild: true, NewerDevices: newer));
            foreach (var command in ToolCommands.All.Where(c => c.AppliesTo(xml)))
            {
                var (first, failure) = ToolCommands.FixedPoint(command, xml, libvirt);
                runs++;
                if (first.ExitCode == 2) refused++;
                if (failure is not null) failures.Add($"seed {seed} ({libvirt}): {failure}");
            }
        }
        output.WriteLine($"libvirt {libvirt}: {runs - failures.Count}/{runs} outputs fixed points ({refused} inputs refused)");
        Assert.True(failures.Count == 0, $"{failures.Count} of {runs}:\n" + string.Join("\n", failures.Take(5)));
        Assert.True(refused < runs / 10, $"{refused} of {runs} refused: the generator should make what libvirt accepts");
    }
}
