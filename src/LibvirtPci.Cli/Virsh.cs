namespace LibvirtPci.Cli;

/// <summary>
/// The user's virsh, run as a process (the only place the tool talks to libvirt). A virsh that
/// does not finish in <paramref name="timeout"/> (a daemon that does not answer) is stopped and
/// its command is a failure whose message says so.
/// </summary>
public sealed class Virsh(string executable, string? uri, TimeSpan timeout)
{
    /// <summary>What a virsh command may take by default: a define or dumpxml takes well under a second.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    public ProcessRunner.Result Run(params string[] args) =>
        ProcessRunner.Run(executable, [.. uri is null ? [] : new[] { "-c", uri }, "-q", .. args], timeout);
}
