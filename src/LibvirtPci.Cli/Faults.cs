namespace LibvirtPci.Cli;

/// <summary>
/// What is left when everything that can be foreseen has its own code: an I/O failure the file
/// layer did not name is LP105, anything else a bug, LP190 — a message for that file, never a
/// stack trace, and the other files of a batch are still done.
/// </summary>
internal static class Faults
{
    /// <summary>An exception the CLI turns into a message for its file: an InputException as it is, anything else not a usage error and not one that must end the process.</summary>
    public static bool IsReportable(Exception e) => e is not (UsageException or OutOfMemoryException or StackOverflowException);

    /// <summary>Input the tool refuses is exit 2; a fault of its own or of the system, exit 3.</summary>
    public static int ExitCodeOf(Exception e) => e is InputException ? ExitCode.InvalidInput : ExitCode.ToolFailed;

    public static InputException AsMessage(string file, Exception e) => e switch
    {
        InputException input => input,
        IOException or UnauthorizedAccessException => new InputException(file, "LP105", e.Message.TrimEnd('.')),
        _ => new InputException(file, "LP190", $"internal error ({e.GetType().Name}: {e.Message.TrimEnd('.')}); nothing was written for this file — please report it with the file"),
    };

    /// <summary>
    /// A fault on demand, for the tests that prove the above (LIBVIRT_PCI_INJECT_FAULT=internal|io
    /// fails every file whose name contains "inject-fault"); read once, costs nothing otherwise.
    /// </summary>
    public static void Injected(string name)
    {
        if (Mode is null || !name.Contains("inject-fault", StringComparison.Ordinal)) return;
        throw Mode == "io" ? new IOException("No space left on device") : new InvalidOperationException("injected");
    }

    private static readonly string? Mode = Environment.GetEnvironmentVariable("LIBVIRT_PCI_INJECT_FAULT");
}
