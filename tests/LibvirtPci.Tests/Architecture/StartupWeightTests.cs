using System.Reflection;

namespace LibvirtPci.Tests.Architecture;

/// <summary>
/// What the tool's two assemblies reference is what NativeAOT links into the one binary, and every
/// type linked in with static fields has its static base allocated at every start, whether the run
/// uses it or not (README, Performance). System.Xml's reader and writer (with the URL resolver, HTTP
/// and TLS behind them) and System.Text.RegularExpressions cost 56 page faults and 6 MB there for
/// the sidecar ledger, virsh's output and a few messages, which the span parser and plain string
/// code do as well. A reference to them in src/ fails here, before the benchmark sees it.
/// </summary>
public sealed class StartupWeightTests
{
    public static TheoryData<string> Heavy => new() { "System.Private.Xml", "System.Private.Xml.Linq", "System.Xml.ReaderWriter", "System.Xml.XDocument", "System.Text.RegularExpressions" };

    [Theory]
    [MemberData(nameof(Heavy))]
    public void The_tool_does_not_reference(string assembly)
    {
        foreach (var tool in new[] { typeof(LibvirtPci.Finding).Assembly, typeof(LibvirtPci.Cli.Commands).Assembly })
            Assert.DoesNotContain(assembly, tool.GetReferencedAssemblies().Select(a => a.Name));
    }

    [Fact]
    public void The_check_names_what_a_reference_looks_like()
    {
        // the test assembly uses both, so the names above are the ones the compiler writes
        var names = typeof(StartupWeightTests).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.Contains("System.Xml.XDocument", names);
        Assert.Contains("System.Text.RegularExpressions", names);
    }
}
