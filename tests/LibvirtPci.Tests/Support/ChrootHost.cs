using System.Text;

namespace LibvirtPci.Tests.Support;

/// <summary>
/// A Debian chroot (tools/libvirt-sandbox.sh --debian SUITE make) as an Ansible host: an inventory
/// line whose Python runs inside the root, each module in a private mount namespace with
/// Ansible's remote temporary folder (Ansible.Playbook's, under the test's folder) bound in at the
/// same path and /proc mounted, so copy and every module see what the controller sent, and
/// nothing stays mounted.
/// </summary>
public static class ChrootHost
{
    public static string Root(string suite) => $"/var/tmp/libvirt-pci-{suite}/root";

    public static string? Missing(string suite) =>
        File.Exists(Root(suite) + "/usr/bin/python3") && Environment.UserName == "root" ? null
            : $"the {suite} chroot is not made, or not root (bash tools/libvirt-sandbox.sh --debian {suite} make)";

    /// <summary>An inventory with one host, <paramref name="name"/>, that is the chroot; written into <paramref name="dir"/> as "hosts".</summary>
    public static void Inventory(TempDir dir, string suite, string name)
    {
        var root = Root(suite);
        var remoteTmp = Path.Combine(dir.Path, ".ansible-remote");
        Directory.CreateDirectory(remoteTmp);
        var python = dir.File($"python-{suite}", Encoding.UTF8.GetBytes($$"""
            #!/bin/sh
            # Python 3 of the {{suite}} chroot, with Ansible's remote temporary folder at the same path inside
            exec unshare --mount --propagation private /bin/sh -ec '
              mkdir -p "{{root}}{{remoteTmp}}"
              mount --bind "{{remoteTmp}}" "{{root}}{{remoteTmp}}"
              mount -t proc proc "{{root}}/proc"
              exec chroot "{{root}}" /usr/bin/python3 "$@"' python3 "$@"

            """));
        File.SetUnixFileMode(python, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        dir.File("hosts", Encoding.UTF8.GetBytes($"{name} ansible_connection=local ansible_python_interpreter={python}\n"));
    }
}
