namespace LibvirtPci.Tests.Support;

/// <summary>
/// The scores of the tests that measure against real parts (the differential harness per daemon,
/// the booted guests): tools/test.sh prints out/harness.txt at the end of every run, so each CI
/// log carries the numbers an issue's note quotes.
/// </summary>
public static class Scoreboard
{
    private static readonly object Gate = new();

    public static void Add(string line)
    {
        Console.WriteLine(line);
        lock (Gate)
        {
            Directory.CreateDirectory(Path.Combine(Paths.RepoRoot, "out"));
            File.AppendAllText(Path.Combine(Paths.RepoRoot, "out", "harness.txt"), $"{line} [{DateTime.UtcNow:yyyy-MM-dd}]\n");
        }
    }
}
