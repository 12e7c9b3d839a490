using LibvirtPci.Tools;

// fuzz [COUNT] [SEED]: mutate the libvirt corpus and our fixtures COUNT times (default 100,000)
// and check the invariants; failing inputs are written to out/fuzz-failures/. Exit 1 on any.
int count = args.Length > 0 ? int.Parse(args[0]) : 100_000;
int seed = args.Length > 1 ? int.Parse(args[1]) : Environment.TickCount;
var root = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(root, "LibvirtPci.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("run inside the repository");
var seeds = Directory.GetFiles(Path.Combine(root, "..", "shared", "corpus", "libvirt"), "*.xml")
    .Concat(Directory.GetFiles(Path.Combine(root, "fixtures"), "*.xml", SearchOption.AllDirectories))
    .Select(File.ReadAllText).ToList();
Console.WriteLine($"fuzzing {count} inputs from {seeds.Count} seeds, seed {seed}");
var started = DateTime.UtcNow;
var failures = FuzzHarness.Run(seeds, count, seed, i => Console.Error.Write($"\r{i} inputs"));
Console.Error.WriteLine();
var dir = Path.Combine(root, "out", "fuzz-failures");
for (int i = 0; i < failures.Count; i++)
{
    Directory.CreateDirectory(dir);
    File.WriteAllBytes(Path.Combine(dir, $"failure-{i}.xml"), failures[i].Input);
    Console.WriteLine($"failure-{i}.xml: {failures[i].Reason.Split('\n')[0]}");
}
Console.WriteLine($"{count} inputs in {(DateTime.UtcNow - started).TotalSeconds:F0} s: {failures.Count} invariant violations");
return failures.Count == 0 ? 0 : 1;
