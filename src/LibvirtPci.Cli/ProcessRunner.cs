using System.Diagnostics;
using System.Text;

namespace LibvirtPci.Cli;

/// <summary>
/// The one way the CLI runs another program (virsh, dot, git): output captured, an optional
/// timeout after which the program and its children are killed, and every failure — not found,
/// not executable, timed out — a result with words in it, never an exception.
/// </summary>
public static class ProcessRunner
{
    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr, bool Started = true, bool TimedOut = false)
    {
        public string Text => Encoding.UTF8.GetString(Stdout);
        /// <summary>Stderr on one line, for a message.</summary>
        public string Error => Stderr.Trim().Replace("\n", " ", StringComparison.Ordinal);
    }

    /// <summary>The exit code a result carries when the program ran out of time (as timeout(1) does).</summary>
    public const int TimedOutCode = 124;

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/>; <paramref name="stdin"/> is written and closed; after <paramref name="timeout"/> the process tree is killed.</summary>
    public static Result Run(string file, IEnumerable<string> args, TimeSpan? timeout = null, string? stdin = null, Stream? stdoutTo = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new Result(127, [], $"cannot run {file}: {e.Message}", Started: false);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            using var buffer = new MemoryStream();
            var stdout = Task.Run(() => process.StandardOutput.BaseStream.CopyTo(stdoutTo ?? buffer));
            if (stdin is not null)
            {
                try
                {
                    process.StandardInput.Write(stdin);
                    process.StandardInput.Close();
                }
                catch (IOException) { } // it exited without reading: its exit code says why
            }
            if (!process.WaitForExit(timeout ?? Timeout.InfiniteTimeSpan))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                process.WaitForExit();
                var command = string.Join(' ', [file, .. psi.ArgumentList]);
                return new Result(TimedOutCode, [], $"`{command}` did not finish in {timeout!.Value.TotalSeconds:0} s and was stopped", TimedOut: true);
            }
            stdout.Wait();
            return new Result(process.ExitCode, buffer.ToArray(), stderr.Result);
        }
    }
}
