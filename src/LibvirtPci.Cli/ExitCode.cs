namespace LibvirtPci.Cli;

/// <summary>Conventional exit codes (README, "Exit codes").</summary>
public static class ExitCode
{
    public const int Ok = 0;
    public const int ChangesNeeded = 1;
    public const int InvalidInput = 2;
    public const int VirshFailed = 3;
    /// <summary>A tool the CLI runs failed, or the CLI itself did (LP190): the message says which; the other files were still done.</summary>
    public const int ToolFailed = 3;
    /// <summary>The result has an error finding (e.g. LP601: it would not boot): nothing was written (--force writes anyway).</summary>
    public const int ErrorFinding = 4;
}
