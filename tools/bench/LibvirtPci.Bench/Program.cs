using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Rewrite;
using LibvirtPci.Tools;
using LibvirtPci.Xml;

// batch DIR: in-process phases over every *.xml in DIR (where a --check of many files spends its time).
if (args.FirstOrDefault() == "batch")
{
    var files = Directory.GetFiles(args[1], "*.xml").Select(f => (f, File.ReadAllBytes(f))).ToList();
    var totals = new Dictionary<string, double>();
    var allocated = new Dictionary<string, long>();
    void Time(string name, Action a)
    {
        long bytes = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        a();
        totals[name] = totals.GetValueOrDefault(name) + sw.Elapsed.TotalMilliseconds;
        allocated[name] = allocated.GetValueOrDefault(name) + GC.GetAllocatedBytesForCurrentThread() - bytes;
    }
    for (int round = 0; round < 3; round++)
    {
        totals.Clear();
        allocated.Clear();
        foreach (var (name, bytes) in files)
        {
            SourceText src = null!; XmlSpanDocument doc = null!; DomainDefinition dom = null!;
            Time("decode", () => src = SourceText.FromBytes(name, bytes));
            Time("xmlreader", () => { using var r = System.Xml.XmlReader.Create(new StringReader(src.Text), new System.Xml.XmlReaderSettings { DtdProcessing = System.Xml.DtdProcessing.Prohibit, XmlResolver = null, IgnoreWhitespace = true, IgnoreComments = true }); while (r.Read()) { } });
            Time("parse", () => doc = XmlSpanParser.Parse(src));
            Time("model", () => dom = DomainDefinition.FromDocument(doc));
            Time("lint", () => AddressLint.Check(dom));
            Time("allocate", () => LibvirtAllocator.Assign(dom, global::LibvirtPci.Addressing.QemuCapabilities.Latest, ToolTarget.Policy));
            Time("io-budget", () => LibvirtPci.Limits.IoSpaceBudget.Analyze(dom, ToolTarget.Debian12Firmware));
            Time("rewrite(all)", () => Rewriter.Assign(dom, ToolTarget.Options));
        }
    }
    long before = GC.GetAllocatedBytesForCurrentThread();
    int gcs = GC.CollectionCount(0);
    foreach (var (name, bytes) in files) Rewriter.Assign(SourceText.FromBytes(name, bytes), ToolTarget.Options);
    Console.WriteLine($"{files.Count} files, one thread: " + string.Join(", ", totals.Select(kv => $"{kv.Key} {kv.Value:F0} ms/{allocated[kv.Key] / 1024.0 / files.Count:F0} KB"))
        + $"; assign allocates {(GC.GetAllocatedBytesForCurrentThread() - before) / 1024.0 / files.Count:F0} KB per file, {GC.CollectionCount(0) - gcs} gen0 GCs per 1000 files");
    return 0;
}

// allocs DIR|DEVICES: what rewriting (after parsing) allocates per file, by type (the runtime's 100 KB allocation samples).
if (args.FirstOrDefault() == "allocs")
{
    var sources = int.TryParse(args[1], out int devices)
        ? Enumerable.Range(0, 20).Select(_ => SourceText.FromString("big.xml", DomainGenerator.Big(devices, "pc"))).ToList()
        : Directory.GetFiles(args[1], "*.xml").Select(f => SourceText.FromBytes(f, File.ReadAllBytes(f))).ToList();
    var domains = sources.Select(s => DomainDefinition.Parse(s)).ToList();
    using var listener = new AllocationListener();
    foreach (var d in domains) Rewriter.Assign(d, ToolTarget.Options);
    foreach (var (type, kb) in listener.ByType.OrderByDescending(kv => kv.Value).Take(25))
        Console.WriteLine($"{kb / sources.Count,8:F1} KB/file  {type}");
    return 0;
}

// rewrite N ROUNDS: only the rewrite of one N-device domain, for a profiler.
if (args.FirstOrDefault() == "rewrite")
{
    var domain = DomainDefinition.Parse(SourceText.FromString("big.xml", DomainGenerator.Big(int.Parse(args[1]), "pc")));
    var sw = Stopwatch.StartNew();
    for (int round = 0; round < int.Parse(args[2]); round++) Rewriter.Assign(domain, ToolTarget.Options);
    Console.WriteLine($"{sw.Elapsed.TotalMilliseconds / int.Parse(args[2]):F1} ms per rewrite");
    return 0;
}

// parse DIR ROUNDS: only the parser, for a profiler.
if (args.FirstOrDefault() == "parse")
{
    var sources = Directory.GetFiles(args[1], "*.xml").Select(f => SourceText.FromBytes(f, File.ReadAllBytes(f))).ToList();
    var sw = Stopwatch.StartNew();
    for (int round = 0; round < int.Parse(args[2]); round++)
        foreach (var s in sources) XmlSpanParser.Parse(s);
    Console.WriteLine($"{sw.Elapsed.TotalMilliseconds / int.Parse(args[2]):F1} ms per {sources.Count} files");
    return 0;
}

// quick [SIZES...]: in-process wall time of assign (mean over many runs) per size, the phases of the
// largest, and time(max)/time(min). Anything else goes to BenchmarkDotNet.
if (args.FirstOrDefault() == "quick")
{
    var sizes = args.Skip(1).Select(int.Parse).DefaultIfEmpty(500).ToArray();
    if (args.Length == 1) sizes = new[] { 500, 2000, 5000 };
    var times = new Dictionary<int, double>();
    foreach (var n in sizes)
    {
        var source = SourceText.FromString($"big{n}.xml", DomainGenerator.Big(n, "pc"));
        Rewriter.Assign(source, ToolTarget.Options); // warm up
        // Many runs back to back, as a batch would: the mean carries each run's share of the
        // collections (a 500-device run alone never triggers one, a 5,000-device run always does);
        // the median is shown beside it.
        int count = Math.Max(25, 250_000 / n);
        var runs = new List<double>();
        var paused = GC.GetTotalPauseDuration();
        int collections = GC.CollectionCount(0), fullCollections = GC.CollectionCount(2);
        var total = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            var sw = Stopwatch.StartNew();
            Rewriter.Assign(source, ToolTarget.Options);
            runs.Add(sw.Elapsed.TotalMilliseconds);
        }
        double best = total.Elapsed.TotalMilliseconds / count, median = runs.Order().ElementAt(count / 2);
        double pause = (GC.GetTotalPauseDuration() - paused).TotalMilliseconds / count;
        double gcs = (GC.CollectionCount(0) - collections) / (double)count, fullGcs = (GC.CollectionCount(2) - fullCollections) / (double)count;
        times[n] = best;
        Console.WriteLine($"assign {n,5} devices: {best,8:F1} ms mean of {count}, {best * 1000 / n,5:F1} µs/device; median {median:F1} ms; per run: GC pauses {pause:F1} ms, {gcs:F1} collections ({fullGcs:F1} full)");
    }
    foreach (var n in sizes.Distinct().Where(n => n == sizes.Min() || n == sizes.Max()))
    {
        var source = SourceText.FromString("big.xml", DomainGenerator.Big(n, "pc"));
        var phases = new List<string>();
        T Phase<T>(string name, Func<T> f)
        {
            T r = default!;
            double best = double.MaxValue;
            long allocated = 0;
            for (int i = 0; i < 7; i++)
            {
                GC.Collect();
                long bytes = GC.GetAllocatedBytesForCurrentThread();
                var sw = Stopwatch.StartNew();
                r = f();
                best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
                allocated = GC.GetAllocatedBytesForCurrentThread() - bytes;
            }
            phases.Add($"{name} {best:F1} ms / {allocated / 1048576.0:F1} MB");
            return r;
        }
        var doc = Phase("parse", () => XmlSpanParser.Parse(source));
        var domain = Phase("model", () => DomainDefinition.FromDocument(doc));
        Phase("allocate", () => LibvirtAllocator.Assign(domain, global::LibvirtPci.Addressing.QemuCapabilities.Latest, ToolTarget.Policy));
        Phase("lint", () => AddressLint.Check(domain));
        var plan = Phase("rewrite", () => Rewriter.Assign(domain, ToolTarget.Options));
        Phase("reparse", () => DomainDefinition.Parse(SourceText.FromString("x", plan.Text)));
        Console.WriteLine($"phases at {n} devices (best of 7, after a full GC): " + string.Join(", ", phases));
    }
    if (sizes.Length > 1)
    {
        var ordered = sizes.Distinct().Order().ToArray();
        Console.WriteLine($"ratio time({sizes.Max()})/time({sizes.Min()}) = {times[sizes.Max()] / times[sizes.Min()]:F1} (devices x{(double)sizes.Max() / sizes.Min():F0})"
            + (ordered.Length > 2 ? $"; time({ordered[^1]})/time({ordered[^2]}) = {times[ordered[^1]] / times[ordered[^2]]:F1} (devices x{(double)ordered[^1] / ordered[^2]:F1})" : ""));
    }
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(AssignBenchmarks).Assembly).Run(args);
return 0;

/// <summary>The hot paths: parse, allocate and the whole rewrite, at three domain sizes.</summary>
[MemoryDiagnoser]
public class AssignBenchmarks
{
    private SourceText _source = null!;
    private DomainDefinition _domain = null!;

    [Params(60, 500, 5000)]
    public int Devices { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _source = SourceText.FromString("bench.xml", Devices == 60 ? new DomainGenerator(7).Generate(new DomainGenerator.Options(60, 60, Machine: "q35")) : DomainGenerator.Big(Devices, "pc"));
        _domain = DomainDefinition.Parse(_source);
    }

    [Benchmark] public XmlSpanDocument Parse() => XmlSpanParser.Parse(_source);
    [Benchmark] public AllocationResult Allocate() => LibvirtAllocator.Assign(_domain, global::LibvirtPci.Addressing.QemuCapabilities.Latest, ToolTarget.Policy);
    [Benchmark] public RewritePlan Rewrite() => Rewriter.Assign(_source, ToolTarget.Options);
}

/// <summary>Samples of GC allocations (one event per ~100 KB), summed by type.</summary>
internal sealed class AllocationListener : System.Diagnostics.Tracing.EventListener
{
    public Dictionary<string, double> ByType { get; } = new();

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.EventName != "GCAllocationTick_V4" || e.Payload is null) return;
        var type = (string)e.Payload[e.PayloadNames!.IndexOf("TypeName")]!;
        var amount = Convert.ToDouble(e.Payload[e.PayloadNames.IndexOf("AllocationAmount")]);
        lock (ByType) ByType[type] = ByType.GetValueOrDefault(type) + amount / 1024;
    }
}
