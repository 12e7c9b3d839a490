using System.Text;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Integration;

/// <summary>
/// The ledger beside libvirt's own editors, on the real daemon: a --stable domain loses NIC :03
/// (virsh detach-device --config), gains NIC :05 (virsh attach-device --config, which libvirt puts
/// into :03's released slot), then :03 is written back into the XML without an address. Nothing is
/// refused: the tool warns that :05 took the slot, gives :03 a fresh address with a warning, and
/// the result defines cleanly with no duplicate.
/// </summary>
[Trait("Category", "Integration")]
[Collection("libvirt")]
public sealed class AttachDeviceTests
{
    private const string Mac3 = "52:54:00:00:00:03", Mac5 = "52:54:00:00:00:05";

    private static string Nic(string mac) => $"<interface type='user'>\n  <mac address='{mac}'/>\n  <model type='virtio'/>\n</interface>\n";

    [SkippableFact]
    public void Attach_device_into_a_released_slot_is_reconciled_not_refused()
    {
        Sandbox.Require();
        var uri = Sandbox.Uri;
        var name = $"attach-{Environment.ProcessId}";
        using var dir = new TempDir();
        var tool = Support.Cli.ExternalBinary ?? Path.Combine(AppContext.BaseDirectory, "libvirt-pci");
        Proc.Result Virsh(params string[] args) => Proc.Run("virsh", ["-q", "-c", uri, .. args]);
        Proc.Result Tool(params string[] args) => Proc.Run(tool, args);

        var vm = dir.File("vm.xml", Encoding.UTF8.GetBytes(
            $"<domain type='qemu'>\n  <name>{name}</name>\n  <memory unit='MiB'>256</memory>\n  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n" +
            "    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/x.qcow2'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n" +
            $"    <interface type='user'>\n      <mac address='{Mac3}'/>\n      <model type='virtio'/>\n    </interface>\n  </devices>\n</domain>\n"));
        try
        {
            Assert.Equal(0, Tool("-i", "--stable", vm).Code);
            Assert.Equal(0, Virsh("define", vm).Code);
            var slot3 = Between(Virsh("dumpxml", "--inactive", name).Out, Mac3);

            Assert.True(Virsh("detach-device", "--config", name, dir.File("nic3.xml", Encoding.UTF8.GetBytes(Nic(Mac3)))).Code == 0);
            var attach = Virsh("attach-device", "--config", name, dir.File("nic5.xml", Encoding.UTF8.GetBytes(Nic(Mac5))));
            Assert.True(attach.Code == 0, attach.Err);
            var dumped = dir.File("dumped.xml", Encoding.UTF8.GetBytes(Virsh("dumpxml", "--inactive", name).Out));
            Assert.Equal(slot3, Between(File.ReadAllText(dumped), Mac5)); // libvirt reused the released slot: the scenario

            var reconciled = Tool("-i", dumped);
            Assert.True(reconciled.Code == 0, reconciled.Err);
            Assert.True(reconciled.Err.Contains($"warning LP503: interface/{Mac5} now holds", StringComparison.Ordinal), reconciled.Err);

            // :03 is written back into the file without an address.
            var text = File.ReadAllText(dumped);
            File.WriteAllText(dumped, text.Replace("  </devices>", "    " + Nic(Mac3).Replace("\n", "\n    ").TrimEnd() + "\n  </devices>", StringComparison.Ordinal));
            var back = Tool("-i", dumped);
            Assert.True(back.Code == 0, back.Err);
            Assert.Contains($"warning LP504: interface/{Mac3} comes back at", back.Err);
            var result = File.ReadAllText(dumped);
            Assert.NotEqual(slot3, Between(result, Mac3));
            Assert.Equal(slot3, Between(result, Mac5));
            Assert.Equal(0, Tool("lint", dumped).Code);
            var define = Virsh("define", dumped);
            Assert.True(define.Code == 0, define.Err);
            var stored = Virsh("dumpxml", "--inactive", name).Out;
            Assert.Equal(Between(result, Mac3), Between(stored, Mac3));
        }
        finally
        {
            Virsh("undefine", name);
        }
    }

    /// <summary>The &lt;address&gt; line of the interface with <paramref name="mac"/>.</summary>
    private static string Between(string xml, string mac)
    {
        int at = xml.IndexOf($"<mac address='{mac}'/>", StringComparison.Ordinal);
        Assert.True(at >= 0, $"no interface {mac} in:\n{xml}");
        int end = xml.IndexOf("</interface>", at, StringComparison.Ordinal);
        var address = System.Text.RegularExpressions.Regex.Match(xml[at..end], "<address type='pci'[^>]*/>");
        Assert.True(address.Success, $"interface {mac} has no PCI address");
        return address.Value;
    }
}
