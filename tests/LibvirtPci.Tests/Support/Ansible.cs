using System.Diagnostics;
using System.Text.Json.Nodes;

namespace LibvirtPci.Tests.Support;

/// <summary>
/// Debian's ansible-core, run as a user runs it, with the collection from src/ansible_collections
/// and a JSON stdout callback of the tests' own (tests/ansible) so that every task's result per host can be read.
/// </summary>
public static class Ansible
{
    public static string CollectionsPath => Path.Combine(Paths.RepoRoot, "src");
    public static string Collection => Path.Combine(CollectionsPath, "ansible_collections", "libvirt_pci", "fleet");

    /// <summary>The libvirt-pci the modules run: this build's (the NativeAOT one when the suite runs against it).</summary>
    public static string Binary => Cli.ExternalBinary ?? Path.Combine(AppContext.BaseDirectory, "libvirt-pci");

    public static void Require() =>
        global::LibvirtPci.Tests.Support.Require.Available(File.Exists("/usr/bin/ansible-playbook") ? null
            : "ansible-core is not installed (apt-get install ansible-core)");

    public sealed record Run(int ExitCode, JsonNode? Report, string Stdout, string Stderr)
    {
        /// <summary>The result of the task named <paramref name="task"/> (in a role: "ROLE : task") on <paramref name="host"/> (the last play that ran it).</summary>
        public JsonNode Result(string task, string host = "localhost")
        {
            foreach (var play in (Report?["plays"]?.AsArray() ?? []).Reverse())
                foreach (var t in play!["tasks"]!.AsArray())
                    if (t!["task"]!["name"]!.GetValue<string>() is var name && (name == task || name.EndsWith(" : " + task, StringComparison.Ordinal)) && t["hosts"]?[host] is { } r) return r;
            throw new Xunit.Sdk.XunitException($"no result of task '{task}' on {host}:\n{Stdout}\n{Stderr}");
        }
    }

    /// <summary>Runs ansible-playbook in <paramref name="dir"/> with an inventory and a playbook there.</summary>
    public static Run Playbook(string dir, string playbook, string inventory, params string[] args)
    {
        var psi = new ProcessStartInfo("ansible-playbook") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in (string[])["-i", inventory, playbook, .. args]) psi.ArgumentList.Add(a);
        psi.Environment["ANSIBLE_COLLECTIONS_PATH"] = CollectionsPath;
        psi.Environment["ANSIBLE_STDOUT_CALLBACK"] = "json_results"; // tests/ansible/callback_plugins
        psi.Environment["ANSIBLE_CALLBACK_PLUGINS"] = Path.Combine(Paths.RepoRoot, "tests", "ansible", "callback_plugins");
        psi.Environment["ANSIBLE_NOCOLOR"] = "1";
        psi.Environment["ANSIBLE_RETRY_FILES_ENABLED"] = "0";
        psi.Environment["ANSIBLE_LOCAL_TEMP"] = Path.Combine(dir, ".ansible-local");
        psi.Environment["ANSIBLE_REMOTE_TEMP"] = Path.Combine(dir, ".ansible-remote");
        psi.Environment["ANSIBLE_PYTHON_INTERPRETER"] = "/usr/bin/python3";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(600_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("ansible-playbook ran for 10 minutes");
        }
        JsonNode? report = null;
        try { report = JsonNode.Parse(stdout.Result); } catch (System.Text.Json.JsonException) { }
        return new Run(p.ExitCode, report, stdout.Result, stderr.Result);
    }

    /// <summary>ansible-doc, ansible-galaxy: with the collection on the collections path.</summary>
    public static Proc.Result Tool(string dir, string tool, params string[] args) =>
        Proc.Run(tool, args, dir, new Dictionary<string, string?>
        {
            ["ANSIBLE_COLLECTIONS_PATH"] = CollectionsPath,
            ["ANSIBLE_NOCOLOR"] = "1",
            ["ANSIBLE_LOCAL_TEMP"] = Path.Combine(dir, ".ansible-local"),
        });
}
