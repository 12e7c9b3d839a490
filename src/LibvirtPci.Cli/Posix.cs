using System.Runtime.InteropServices;

namespace LibvirtPci.Cli;

/// <summary>
/// File ownership, which .NET does not expose: stat(2) for the original's uid/gid, chown(2) for
/// the replacement, so that root rewriting a user's file leaves it the user's. Linux x86_64 only
/// (struct stat layout); elsewhere ownership is left to the OS.
/// </summary>
internal static class Posix
{
    [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

    public static void CopyOwner(string from, string to)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        try
        {
            var st = new byte[256];
            if (Stat(from, st) != 0) return;
            uint uid = BitConverter.ToUInt32(st, 28), gid = BitConverter.ToUInt32(st, 32); // st_uid, st_gid on x86_64 glibc
            Chown(to, uid, gid); // best effort: an unprivileged user can only give files to itself
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }
}
