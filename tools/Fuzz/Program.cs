using LibvirtPci.Tools;

// fuzz [COUNT] [SEED]: mutate the libvirt corpus and our fixtures COUNT times (default 100,000)
// and check the invariants; failing inputs are written to out/fuzz-failures/. Exit 1 on any.
// fuzz parser [COUNT] [SEED]: XML-aware mutants, our parser against XmlReader (ParserOracle).
bool parser = args.FirstOrDefault() == "parser";
if (parser) args = args[1..];
int count = args.Length > 0 ? int.Parse(args[0]) : 100_000;
int seed = args.Length > 1 ? int.Parse(args[1]) : Environment.TickCount;
var root = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(root, "LibvirtPci.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("run inside the repository");
// libvirt's own test corpus, as tools/fetch-libvirt-corpus.sh 9.0.0 caches it (run that first)
var corpus = CorpusLocation.Of("9.0.0");
if (!Directory.Exists(corpus)) { Console.Error.WriteLine($"fuzz: no corpus at {corpus}: run tools/fetch-libvirt-corpus.sh 9.0.0"); return 2; }
var seeds = Directory.GetFiles(corpus, "*.xml")
    .Concat(Directory.GetFiles(Path.Combine(root, "fixtures"), "*.xml", SearchOption.AllDirectories))
    .Select(File.ReadAllText).ToList();
if (parser)
{
    var rng = new Random(seed);
    int intended = 0, disagreements = 0;
    for (int i = 0; i < count; i++)
    {
        var text = ParserOracle.Mutate(rng, seeds[rng.Next(seeds.Count)]);
        if (ParserOracle.Disagreement(text, out bool isIntended) is not { } why) continue;
        if (isIntended) { intended++; continue; }
        var failureDir = Path.Combine(root, "out", "fuzz-failures");
        Directory.CreateDirectory(failureDir);
        File.WriteAllText(Path.Combine(failureDir, $"parser-{disagreements}.xml"), text);
        Console.WriteLine($"parser-{disagreements++}.xml: {why}");
    }
    Console.WriteLine($"{count} XML-aware mutants, seed {seed}: {intended} intended differences, {disagreements} disagreements with XmlReader");
    return disagreements == 0 ? 0 : 1;
}
Console.WriteLine($"fuzzing {count} inputs from {seeds.Count} seeds, seed {seed}");
var started = DateTime.UtcNow;
var outcome = FuzzHarness.Run(seeds, count, seed, i => Console.Error.Write($"\r{i} inputs"));
var failures = outcome.Failures;
Console.Error.WriteLine();
var dir = Path.Combine(root, "out", "fuzz-failures");
for (int i = 0; i < failures.Count; i++)
{
    Directory.CreateDirectory(dir);
    File.WriteAllBytes(Path.Combine(dir, $"failure-{i}.xml"), failures[i].Input);
    Console.WriteLine($"failure-{i}.xml: {failures[i].Reason.Split('\n')[0]}");
}
Console.WriteLine($"{count} inputs in {(DateTime.UtcNow - started).TotalSeconds:F0} s: {failures.Count} invariant violations, {outcome.RefusedShare:P0} refused");
return failures.Count == 0 ? 0 : 1;
