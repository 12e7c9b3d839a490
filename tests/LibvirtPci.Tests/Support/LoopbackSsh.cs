using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LibvirtPci.Tests.Support;

/// <summary>
/// An sshd of the test's own on 127.0.0.1: its own host key, its own authorized key, a free port,
/// started and stopped by the test. <see cref="SshCommand"/> is an ssh that knows only that key
/// and that host (its own known_hosts, strict checking), for libvirt's command= URI parameter.
/// </summary>
public sealed class LoopbackSsh : IDisposable
{
    private readonly Process _sshd;

    public int Port { get; }
    public string SshCommand { get; }

    public static void Require()
    {
        string? missing = !OperatingSystem.IsLinux() || Environment.UserName != "root" ? "the loopback sshd needs root on Linux"
            : !File.Exists("/usr/sbin/sshd") ? "openssh-server is not installed (apt-get install openssh-server)"
            : !File.Exists("/usr/bin/nc") ? "netcat is not installed (apt-get install netcat-openbsd)"
            : null;
        global::LibvirtPci.Tests.Support.Require.Available(missing);
    }

    public LoopbackSsh(TempDir dir)
    {
        var d = Path.Combine(dir.Path, "ssh");
        Directory.CreateDirectory(d);
        foreach (var key in new[] { "hostkey", "clientkey" })
            Proc.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "libvirt-pci-test", "-f", Path.Combine(d, key)]);
        File.Copy(Path.Combine(d, "clientkey.pub"), Path.Combine(d, "authorized_keys"));
        Port = FreePort();
        File.WriteAllText(Path.Combine(d, "sshd_config"), $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {d}/hostkey
            AuthorizedKeysFile {d}/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PidFile {d}/sshd.pid

            """);
        var hostKey = File.ReadAllText(Path.Combine(d, "hostkey.pub")).Split(' ');
        File.WriteAllText(Path.Combine(d, "known_hosts"), $"[127.0.0.1]:{Port} {hostKey[0]} {hostKey[1]}\n");
        File.WriteAllText(Path.Combine(d, "ssh_config"), $"""
            Host 127.0.0.1
              IdentityFile {d}/clientkey
              IdentitiesOnly yes
              UserKnownHostsFile {d}/known_hosts
              StrictHostKeyChecking yes
              BatchMode yes

            """);
        SshCommand = Path.Combine(d, "ssh");
        File.WriteAllText(SshCommand, $"#!/bin/sh\nexec ssh -F {d}/ssh_config \"$@\"\n");
        File.SetUnixFileMode(SshCommand, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory("/run/sshd"); // its privilege-separation folder
        var psi = new ProcessStartInfo("/usr/sbin/sshd") { RedirectStandardError = true };
        foreach (var a in new[] { "-D", "-e", "-f", Path.Combine(d, "sshd_config") }) psi.ArgumentList.Add(a);
        _sshd = Process.Start(psi)!;
        _sshd.ErrorDataReceived += (_, _) => { };
        _sshd.BeginErrorReadLine();
        for (int i = 0; i < 100 && !Listening(); i++) Thread.Sleep(50);
        if (!Listening()) throw new InvalidOperationException("sshd did not listen on 127.0.0.1:" + Port);
    }

    private bool Listening()
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        try { _sshd.Kill(entireProcessTree: true); _sshd.WaitForExit(5000); } catch (InvalidOperationException) { }
        _sshd.Dispose();
    }
}
