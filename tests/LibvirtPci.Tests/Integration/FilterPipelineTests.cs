using LibvirtPci.Tests.Cli;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Integration;

/// <summary>
/// The filter workflow on a real daemon: `libvirt-pci < vm.xml | virsh define /dev/stdin`. An
/// unbootable result (LP601) stops the pipeline and nothing is defined; with --force it is defined
/// and the error is still printed.
/// </summary>
[Trait("Category", "Integration")]
[Collection("libvirt")]
public sealed class FilterPipelineTests
{
    private static Proc.Result Pipeline(string input, string uri, string name, params string[] toolArgs)
    {
        var tool = Support.Cli.ExternalBinary ?? Path.Combine(AppContext.BaseDirectory, "libvirt-pci");
        return Proc.Run("bash", ["-o", "pipefail", "-c", "\"$0\" \"${@:3}\" < \"$1\" | virsh -q -c \"$2\" define /dev/stdin", tool, input, uri, .. toolArgs]);
    }

    [SkippableFact]
    public void An_unbootable_result_defines_nothing_unless_forced()
    {
        Sandbox.Require();
        var uri = Sandbox.Uri;
        using var dir = new TempDir();
        var name = $"filter-{Environment.ProcessId}";
        var input = dir.File("vm.xml", System.Text.Encoding.UTF8.GetBytes(ErrorFindingTests.Unbootable(name)));

        var stopped = Pipeline(input, uri, name);
        Assert.NotEqual(0, stopped.Code);
        Assert.Contains("error LP601:", stopped.Err);
        Assert.NotEqual(0, Proc.Run("virsh", ["-q", "-c", uri, "dominfo", name]).Code); // nothing defined

        var forced = Pipeline(input, uri, name, "--force");
        try
        {
            Assert.True(forced.Code == 0, forced.Err);
            Assert.Contains("error LP601:", forced.Err);
            Assert.Equal(0, Proc.Run("virsh", ["-q", "-c", uri, "dominfo", name]).Code);
        }
        finally
        {
            Proc.Run("virsh", ["-q", "-c", uri, "undefine", name]);
        }
    }
}
