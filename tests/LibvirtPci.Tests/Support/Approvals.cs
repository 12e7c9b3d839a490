using System.Text;

namespace LibvirtPci.Tests.Support;

/// <summary>
/// Snapshot testing with approved files kept in the repository (Verify cannot be restored
/// here). On a mismatch the actual bytes go to NAME.received.xml next to the approved file and
/// the test fails with a unified diff; approve by renaming received to approved (or run the
/// tests with LIBVIRT_PCI_APPROVE=1).
/// </summary>
public static class Approvals
{
    public static void Verify(string approvedPath, byte[] actual)
    {
        var received = approvedPath.Replace(".approved.", ".received.", StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("LIBVIRT_PCI_APPROVE") == "1")
        {
            File.WriteAllBytes(approvedPath, actual);
            return;
        }
        if (!File.Exists(approvedPath))
        {
            File.WriteAllBytes(received, actual);
            Assert.Fail($"no approved file {approvedPath}; review {received} and rename it to approve");
        }
        var expected = File.ReadAllBytes(approvedPath);
        if (expected.AsSpan().SequenceEqual(actual))
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        File.WriteAllBytes(received, actual);
        Assert.Fail($"{approvedPath} differs (actual written to {received}):\n" +
            TextDiff.Unified(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(actual)));
    }
}
