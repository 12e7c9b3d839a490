using System.Security.Cryptography;

namespace LibvirtPci.Cli;

/// <summary>An input as read: its display name, the path to write back to (null for stdin) and its bytes.</summary>
public sealed record InputFile(string Name, string? Path, byte[] Bytes);

/// <summary>
/// All file and stream I/O of the commands: reading inputs (files, '-' for stdin, directory
/// trees) with clear LP1xx errors, and crash-safe in-place writes (temp file in the same
/// folder, fsync, mode kept, rename; never over a file that changed since it was read).
/// </summary>
public static class FileIO
{
    /// <summary>Domain XML is kilobytes; anything past this is refused rather than read into memory.</summary>
    public const long MaxInputBytes = 64L * 1024 * 1024;

    public static InputFile Read(string path, Stream? stdin = null)
    {
        if (path == "-")
        {
            using var ms = new MemoryStream();
            var input = stdin ?? Console.OpenStandardInput();
            var buffer = new byte[81920];
            int n;
            while ((n = input.Read(buffer, 0, buffer.Length)) > 0)
            {
                ms.Write(buffer, 0, n);
                if (ms.Length > MaxInputBytes) throw new InputException("<stdin>", "LP103", $"input larger than {MaxInputBytes / (1024 * 1024)} MiB refused");
            }
            return new InputFile("<stdin>", null, ms.ToArray());
        }
        try
        {
            // One open, one fstat, one read: no share lock (readers never block writers here;
            // the in-place writer locks and re-checks the content itself).
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long length = RandomAccess.GetLength(handle);
            if (length > MaxInputBytes) throw new InputException(path, "LP103", $"file larger than {MaxInputBytes / (1024 * 1024)} MiB refused");
            var bytes = new byte[length];
            int read = 0;
            while (read < bytes.Length)
            {
                int n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
                if (n == 0) break;
                read += n;
            }
            return new InputFile(path, path, read == bytes.Length ? bytes : bytes[..read]);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InputException(path, "LP100", "no such file");
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException && Directory.Exists(path))
        {
            throw NotAFile(path);
        }
        catch (UnauthorizedAccessException)
        {
            throw new InputException(path, "LP102", "permission denied");
        }
        catch (IOException e)
        {
            throw new InputException(path, "LP102", "cannot read: " + e.Message);
        }
    }

    /// <summary>A folder where a file was expected: LP101, or LP102 when it cannot even be listed (<see cref="Expand"/> returns those in their place).</summary>
    private static InputException NotAFile(string path)
    {
        try { _ = Directory.EnumerateFileSystemEntries(path).Any(); }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return new InputException(path, "LP102", "permission denied: the folder cannot be listed, so the domain XML in it is not checked");
        }
        return new InputException(path, "LP101", "is a directory (give domain XML files, or a directory to --check/--in-place)");
    }

    /// <summary>
    /// Expands directories to the *.xml files below them (sorted); other arguments stay as given.
    /// Found marks files found by walking a directory: those are skipped, not refused, when
    /// they are not domain XML.
    /// </summary>
    /// A folder that cannot be listed is returned as it is, in its place: reading it reports LP102,
    /// and the files beside it are still checked.
    public static IEnumerable<(string Path, bool Found)> Expand(IEnumerable<string> args)
    {
        foreach (var a in args)
        {
            if (a != "-" && Directory.Exists(a))
            {
                var found = new List<string>();
                Walk(a, found);
                foreach (var f in found.OrderBy(f => f, StringComparer.Ordinal))
                    yield return (f, true);
            }
            else yield return (a, false);
        }
    }

    private static void Walk(string dir, List<string> found)
    {
        string[] files, dirs;
        try
        {
            files = Directory.GetFiles(dir, "*.xml");
            dirs = Directory.GetDirectories(dir);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            found.Add(dir);
            return;
        }
        found.AddRange(files);
        foreach (var d in dirs)
            if ((File.GetAttributes(d) & FileAttributes.ReparsePoint) == 0) Walk(d, found); // no symlinked folders: no cycles
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="content"/> atomically. A symlink is
    /// written through to its target. Refuses (LP104) when the file no longer holds
    /// <paramref name="expectedCurrent"/>, so a concurrent edit is never lost.
    /// </summary>
    public static void WriteAtomic(string path, byte[] expectedCurrent, byte[] content)
    {
        var target = ResolveLinks(path);
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(target))!;
        var name = System.IO.Path.GetFileName(target);
        var temp = System.IO.Path.Combine(dir, $".{name}.libvirt-pci-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}.tmp");
        UnixFileMode? mode = OperatingSystem.IsWindows() ? null : File.GetUnixFileMode(target);
        RemoveStaleTemporaries(dir, name);
        try
        {
            // Created with the file's own mode (less what the umask takes; set again below): a 0600
            // domain (VNC passwords, secrets' usage) is never readable by others, not even while written.
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (mode is { } cm && !OperatingSystem.IsWindows()) create.UnixCreateMode = cm;
            using (var fs = new FileStream(temp, create))
            {
                fs.Write(content);
                fs.Flush(flushToDisk: true);
            }
            if (mode is { } m && !OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, m);
            Posix.CopyOwner(target, temp);
            // Hold an exclusive lock on the file while checking and replacing it: of two
            // writers, the second sees the first's result and refuses instead of losing it.
            using (var locked = LockTarget(path, target))
            {
                // Read through the locked handle: a second handle would conflict with our own lock.
                var current = new MemoryStream();
                locked.CopyTo(current);
                if (!current.GetBuffer().AsSpan(0, (int)current.Length).SequenceEqual(expectedCurrent))
                    throw new InputException(path, "LP104", "the file changed while libvirt-pci was working on it; not overwritten (run again)");
                File.Move(temp, target, overwrite: true);
            }
            FsyncDirectory(dir);
        }
        catch (UnauthorizedAccessException)
        {
            throw new InputException(path, "LP105", "cannot write: permission denied, or the file or its folder is immutable (the folder must be writable for an atomic replace; see lsattr)");
        }
        catch (IOException e)
        {
            throw new InputException(path, "LP105", "cannot write: " + WriteFailure(e, temp, path));
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Writes a file only its owner can read, in a folder created for the owner alone when it does
    /// not exist (backups: domain XML can hold VNC/SPICE passwords and secrets' usage), with those
    /// modes from creation on, never widened afterwards.
    /// </summary>
    public static void WritePrivate(string path, byte[] content)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(path, content);
            return;
        }
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
        file.Write(content);
    }

    /// <summary>
    /// Why a write failed, in the user's terms: .NET carries the errno in HResult on Unix, and its
    /// message names our temporary file, which the user never asked for.
    /// </summary>
    private static string WriteFailure(IOException e, string temp, string path) => e.HResult switch
    {
        1 => "operation not permitted (is the file or its folder immutable? see lsattr)", // EPERM
        28 => "no space left on the device", // ENOSPC
        30 => "the file system is read-only", // EROFS
        122 => "disk quota exceeded", // EDQUOT
        _ => e.Message.Replace(temp, path, StringComparison.Ordinal),
    };

    /// <summary>
    /// Temporary files of earlier runs that were killed before their rename
    /// (".NAME.libvirt-pci-PID-RANDOM.tmp" whose PID is gone) are removed; nothing else is touched.
    /// </summary>
    private static void RemoveStaleTemporaries(string dir, string name)
    {
        if (!OperatingSystem.IsLinux()) return;
        var prefix = $".{name}.libvirt-pci-";
        try
        {
            foreach (var f in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
            {
                var rest = Path.GetFileName(f)[prefix.Length..];
                int dash = rest.IndexOf('-');
                if (dash > 0 && int.TryParse(rest[..dash], out var pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
                    File.Delete(f);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>An advisory exclusive lock (flock) on the file, waiting up to 10 s for another writer.</summary>
    private static FileStream LockTarget(string path, string target)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(target, FileMode.Open, FileAccess.Read, FileShare.None);
            }
            catch (IOException) when (attempt < 200 && File.Exists(target))
            {
                Thread.Sleep(50);
            }
            catch (IOException)
            {
                throw new InputException(path, "LP104", "another process kept the file locked; not overwritten (run again)");
            }
        }
    }

    private static string ResolveLinks(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is null ? path : (info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path);
    }

    /// <summary>Makes the rename itself durable (best effort; not every filesystem allows it).</summary>
    private static void FsyncDirectory(string dir)
    {
        try
        {
            using var handle = File.OpenHandle(dir, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.None);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
