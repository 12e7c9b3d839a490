using System.Text;
using LibvirtPci.Conversion;
using LibvirtPci.Domain;
using LibvirtPci.Guest;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Support;
using LibvirtPci.Tools;
using LibvirtPci.Xml;
using Xunit.Abstractions;

namespace LibvirtPci.Tests.Guest;

/// <summary>
/// What `diff`, `tree` and `convert` say the guest sees, against what real guests show: 30
/// generated before/after pairs (six base domains, pc and q35, with and without ACPI; five edits
/// each, the ones that move guest devices in practice), every document booted under SeaBIOS and
/// under OVMF through the host's libvirt (tools/libvirt-boot-probe.sh). For every PCI device the
/// predicted guest location must hold a function in the guest, every NIC's predicted Linux name
/// must be the one the guest's systemd-udev gives it (udevadm test-builtin net_id, default
/// NamePolicy), and for every pair the NICs `diff` says are renamed must be exactly the ones whose
/// booted names differ. Predictions are made from the document as the probe defined it (OVMF
/// adds the ACPI feature UEFI needs). Boots are memoised by content (BootReport).
/// </summary>
[Trait("Category", "Integration")]
[Collection("libvirt")]
public sealed class GuestGroundTruthTests(ITestOutputHelper output)
{
    public sealed record Pair(string Scenario, string Before, string After);

    private static readonly RewriteOptions Options = new() { Libvirt = ToolTarget.Libvirt90 };

    /// <summary>A base domain: seeded NICs (one with an ACPI index on some), a virtio disk, video.</summary>
    internal static string Base(int seed, bool q35, bool acpi)
    {
        var random = new Random(seed);
        string[] nicModels = q35 ? ["virtio", "e1000e", "e1000"] : ["virtio", "e1000", "rtl8139"];
        string[] videos = q35 ? ["virtio", "qxl", "vga"] : ["vga", "qxl", "cirrus"];
        var sb = new StringBuilder();
        sb.Append($"<domain type='kvm'>\n  <name>truth-{seed}</name>\n  <memory unit='MiB'>512</memory>\n  <vcpu>1</vcpu>\n");
        sb.Append($"  <os>\n    <type arch='x86_64' machine='{(q35 ? "q35" : "pc")}'>hvm</type>\n  </os>\n");
        if (acpi) sb.Append("  <features>\n    <acpi/>\n  </features>\n");
        sb.Append("  <devices>\n");
        sb.Append("    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/truth.img'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n");
        int nics = 2 + random.Next(2);
        for (int i = 1; i <= nics; i++)
            sb.Append(Nic(i + 10 * seed, nicModels[random.Next(nicModels.Length)], acpiIndex: i == 2 && seed % 2 == 0 ? 5 + seed : null));
        sb.Append($"    <video>\n      <model type='{videos[random.Next(videos.Length)]}'/>\n    </video>\n");
        sb.Append("  </devices>\n</domain>\n");
        return sb.ToString();
    }

    internal static string Nic(int n, string model, int? acpiIndex = null, string? address = null) =>
        $"    <interface type='network'>\n      <mac address='52:54:00:7e:00:{n:x2}'/>\n      <source network='default'/>\n      <model type='{model}'/>\n" +
        (acpiIndex is { } i ? $"      <acpi index='{i}'/>\n" : "") + (address is null ? "" : $"      {address}\n") + "    </interface>\n";

    private static string Assign(string xml, bool stable = false) =>
        Rewriter.Assign(SourceText.FromString("truth.xml", xml), Options with { Stable = stable }).Text;

    private static string FirstInDevices(string xml, string markup) => xml.Replace("  <devices>\n", "  <devices>\n" + markup, StringComparison.Ordinal);

    /// <summary>The 30 pairs: 3 pc and 3 q35 bases × 5 edits.</summary>
    public static IReadOnlyList<Pair> Pairs()
    {
        var pairs = new List<Pair>();
        foreach (var (seed, q35, acpi) in new[] { (1, false, true), (2, false, true), (3, false, false), (4, true, true), (5, true, true), (6, true, true) })
        {
            var source = Base(seed, q35, acpi);
            var before = Assign(source);
            var beforeStable = Assign(source, stable: true);
            var firstNic = DomainEdit.Parse(before).Devices.First(d => d.Kind == "interface").Key;
            string newNic = Nic(90 + seed, q35 ? "virtio" : "e1000");
            // a device removed from the source, the domain assigned again (pc compacts its slots)
            pairs.Add(new("first NIC removed, no ledger", before, Assign(DomainEdit.Remove(source, DomainEdit.Parse(source).Devices.First(d => d.Kind == "interface").Key))));
            // a NIC added before the others, without the ledger
            pairs.Add(new("NIC added first, no ledger", before, Assign(FirstInDevices(source, newNic))));
            // the same with the ledger: nothing the guest has seen moves
            pairs.Add(new("NIC added, --stable", beforeStable, Assign(DomainEdit.Add(beforeStable, newNic.Trim()), stable: true)));
            // an existing NIC moved behind a bridge (pc: pci-bridge; q35: pcie-to-pci-bridge)
            int index = DomainEdit.Parse(before).Devices.Where(d => d.ControllerType == "pci").Max(d => d.Index ?? 0) + 1;
            var moved = DomainEdit.Remove(before, firstNic);
            moved = DomainEdit.Add(moved, $"<controller type='pci' index='{index}' model='{(q35 ? "pcie-to-pci-bridge" : "pci-bridge")}'/>");
            var nicMarkup = DomainEdit.Parse(before).Devices.First(d => d.Key == firstNic).Element;
            var mac = nicMarkup.Element("mac")!.Attr("address");
            var model = nicMarkup.Element("model")!.Attr("type");
            moved = DomainEdit.Add(moved, Nic(int.Parse(mac![^2..], System.Globalization.NumberStyles.HexNumber), model!, address: $"<address type='pci' domain='0x0000' bus='0x{index:x2}' slot='0x{1 + seed % 4:x2}' function='0x0'/>").Trim());
            pairs.Add(new("NIC moved behind a bridge", before, Assign(moved)));
            if (q35)
                // a bridge put first in the source: libvirt addresses controllers first, so it takes
                // the first root port and every device's port (and guest bus) comes after it. (An
                // explicit empty root port does not do this: libvirt plugs the first device into it.)
                pairs.Add(new("root port + bridge inserted first", before, Assign(FirstInDevices(source, "    <controller type='pci' index='0' model='pcie-root'/>\n    <controller type='pci' model='pcie-root-port'/>\n    <controller type='pci' model='pcie-to-pci-bridge'/>\n"))));
            else
                pairs.Add(new("pc → q35 (convert)", before, Q35Conversion.Convert(DomainEdit.Parse(before), Options).Text));
        }
        return pairs;
    }

    public static IEnumerable<object[]> Firmwares() => [["seabios"], ["ovmf"]];

    [SkippableTheory]
    [MemberData(nameof(Firmwares))]
    public void Every_predicted_location_and_nic_name_is_the_guests(string firmware)
    {
        Require.Available(BootReport.WhyUnavailable());
        var pairs = Pairs();
        Assert.Equal(30, pairs.Count);
        var documents = pairs.SelectMany(p => new[] { p.Before, p.After }).Distinct().ToList();
        var boots = new System.Collections.Concurrent.ConcurrentDictionary<string, BootReport>();
        Parallel.ForEach(documents, new ParallelOptions { MaxDegreeOfParallelism = 2 }, xml => boots[xml] = BootReport.Boot(xml, firmware));

        var failures = new List<string>();
        int devices = 0, nics = 0, renames = 0;
        foreach (var xml in documents)
        {
            var boot = boots[xml];
            var view = GuestView.Of(DomainDefinition.Parse(SourceText.FromString("defined.xml", boot.Defined)));
            foreach (var d in view.Devices.Values)
            {
                devices++;
                var bdf = d.Bdf[5..];
                if (!boot.Classes.ContainsKey(bdf)) failures.Add($"{Name(xml)}: {d.Key}: nothing at {bdf} in the guest");
                if (d.Nic is not { } predicted) continue;
                nics++;
                if (boot.NicName(bdf) is var seen && seen != predicted.Name)
                    failures.Add($"{Name(xml)}: {d.Key} at {bdf}: predicted {predicted.Name}, the guest's udev says {seen ?? "(no NIC)"} ({string.Join(" ", boot.Nics.GetValueOrDefault(bdf)?.Select(kv => kv.Key + "=" + kv.Value) ?? [])})");
            }
        }
        var rows = new List<string>();
        foreach (var group in pairs.GroupBy(p => p.Scenario))
        {
            int changed = 0;
            foreach (var pair in group)
            {
                var (b, a) = (boots[pair.Before], boots[pair.After]);
                var diff = GuestDiff.Compare(DomainDefinition.Parse(SourceText.FromString("before.xml", b.Defined)), DomainDefinition.Parse(SourceText.FromString("after.xml", a.Defined)));
                var saidRenamed = diff.IdentityChanges.Where(c => c.Before!.Nic is not null && c.Before.Nic.Name != c.After!.Nic?.Name).Select(c => c.Key).ToHashSet();
                var before = NamesByKey(b);
                var after = NamesByKey(a);
                var renamed = before.Keys.Intersect(after.Keys).Where(k => before[k] != after[k]).ToHashSet();
                changed += renamed.Count;
                if (!saidRenamed.SetEquals(renamed))
                    failures.Add($"{pair.Scenario} ({Name(pair.Before)}): diff says renamed [{string.Join(", ", saidRenamed)}], the guests [{string.Join(", ", renamed)}]");
            }
            renames += changed;
            rows.Add($"| {group.Key} | {group.Count()} | {changed} |");
        }
        var score = $"guest {firmware}: {pairs.Count} pairs, {documents.Count} documents booted: {devices} device locations, {nics} NIC names, {renames} renames the guests showed; {failures.Count} differ";
        output.WriteLine(score);
        Scoreboard.Add(score);
        output.WriteLine("| scenario | pairs | NICs renamed in the guest |\n|---|---|---|\n" + string.Join("\n", rows));
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// tree (text), tree --json, the picture (DOT), convert's view and diff name every NIC of the
    /// booted documents as the guest's udev did: five views, one model, held to the guest.
    /// </summary>
    [SkippableFact]
    public void Every_view_gives_each_nic_the_name_the_guest_gave_it()
    {
        Require.Available(BootReport.WhyUnavailable());
        var failures = new List<string>();
        int checkedNames = 0;
        foreach (var pair in Pairs())
        {
            var (b, a) = (BootReport.Boot(pair.Before, "seabios"), BootReport.Boot(pair.After, "seabios"));
            using var dir = new TempDir();
            var before = dir.File("before.xml", Encoding.UTF8.GetBytes(b.Defined));
            var after = dir.File("after.xml", Encoding.UTF8.GetBytes(a.Defined));
            var diff = System.Text.Json.JsonDocument.Parse(Support.Cli.Run("diff", "--json", before, after).Stdout).RootElement.GetProperty("devices");
            foreach (var (file, boot, side) in new[] { (before, b, "before"), (after, a, "after") })
            {
                var text = Support.Cli.Run("tree", file).Stdout;
                var dot = Support.Cli.Run("tree", "--format", "dot", file).Stdout;
                var json = Support.Cli.Run("tree", "--json", file).Stdout;
                var jsonNames = JsonNames(System.Text.Json.JsonDocument.Parse(json).RootElement);
                var view = GuestView.Of(DomainDefinition.Parse(SourceText.FromString(file, boot.Defined)));
                foreach (var nic in view.Devices.Values.Where(d => d.Nic is not null))
                {
                    checkedNames++;
                    var guest = boot.NicName(nic.Bdf[5..]);
                    var where = $"{pair.Scenario} ({Name(pair.Before)}, {side}) {nic.Key}";
                    if (!text.Split('\n').Any(l => l.Contains(nic.Key, StringComparison.Ordinal) && l.EndsWith(" " + guest, StringComparison.Ordinal))) failures.Add($"{where}: tree does not say {guest}");
                    if (!dot.Contains($"{nic.Key}", StringComparison.Ordinal) || !dot.Contains($"guest {nic.Bdf[5..]} {guest}\"", StringComparison.Ordinal)) failures.Add($"{where}: the picture does not say {guest}");
                    if (jsonNames.GetValueOrDefault(nic.Key) != guest) failures.Add($"{where}: tree --json says {jsonNames.GetValueOrDefault(nic.Key)}, the guest {guest}");
                    foreach (var d in diff.EnumerateArray().Where(d => d.GetProperty("key").GetString() == nic.Key && d.TryGetProperty(side, out _)))
                        if (d.GetProperty(side).GetProperty("linuxName").GetString() != guest) failures.Add($"{where}: diff says {d.GetProperty(side).GetProperty("linuxName")}, the guest {guest}");
                }
            }
            if (pair.Scenario.StartsWith("pc → q35", StringComparison.Ordinal))
            {
                // convert's view of the booted pc document names each NIC as the two guests did
                var convert = Support.Cli.Run("convert", "--to", "q35", "--libvirt-version", "9.0", before).Stderr;
                var afterNames = GuestView.Of(DomainDefinition.Parse(SourceText.FromString("after.xml", a.Defined)));
                foreach (var nic in GuestView.Of(DomainDefinition.Parse(SourceText.FromString("before.xml", b.Defined))).Devices.Values.Where(d => d.Nic is not null))
                {
                    checkedNames++;
                    var expected = $"Linux NIC name {b.NicName(nic.Bdf[5..])} -> {a.NicName(afterNames[nic.Key]!.Bdf[5..])}";
                    if (!convert.Split('\n').Any(l => l.Contains(nic.Key, StringComparison.Ordinal) && l.Contains(expected, StringComparison.Ordinal)))
                        failures.Add($"{pair.Scenario} ({Name(pair.Before)}) {nic.Key}: convert's view does not say '{expected}'");
                }
            }
        }
        var views = $"guest views: {checkedNames} NIC names checked in tree, tree --json, the picture, diff and convert's view; {failures.Count} differ from the guest";
        output.WriteLine(views);
        Scoreboard.Add(views);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static Dictionary<string, string?> JsonNames(System.Text.Json.JsonElement element)
    {
        var names = new Dictionary<string, string?>(StringComparer.Ordinal);
        void Walk(System.Text.Json.JsonElement e)
        {
            if (e.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                if (e.TryGetProperty("key", out var k) && e.TryGetProperty("linuxName", out var n)) names[k.GetString()!] = n.GetString();
                foreach (var p in e.EnumerateObject()) Walk(p.Value);
            }
            else if (e.ValueKind == System.Text.Json.JsonValueKind.Array)
                foreach (var x in e.EnumerateArray()) Walk(x);
        }
        Walk(element);
        return names;
    }

    private static string Name(string xml) => System.Text.RegularExpressions.Regex.Match(xml, "<name>([^<]*)</name>").Groups[1].Value;

    /// <summary>NIC key → the name the guest's udev gave it.</summary>
    private static Dictionary<string, string?> NamesByKey(BootReport boot)
    {
        var view = GuestView.Of(DomainDefinition.Parse(SourceText.FromString("defined.xml", boot.Defined)));
        return view.Devices.Values.Where(d => d.Nic is not null).ToDictionary(d => d.Key, d => boot.NicName(d.Bdf[5..]));
    }
}
