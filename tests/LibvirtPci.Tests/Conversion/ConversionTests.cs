using System.Text;
using System.Xml.Linq;
using LibvirtPci.Addressing;
using LibvirtPci.Conversion;
using LibvirtPci.Domain;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Integration;
using LibvirtPci.Tests.Support;
using LibvirtPci.Tools;
using LibvirtPci.Xml;
using Xunit.Abstractions;

namespace LibvirtPci.Tests.Conversion;

/// <summary>The pc domains the conversion is measured on: the fixtures (libvirt's own stored form) and generated ones.</summary>
public static class PcDomains
{
    public static IEnumerable<(string Name, string Xml)> All()
    {
        foreach (var f in Directory.GetFiles(Path.Combine(Paths.Fixtures, "convert"), "*.xml").Where(f => !f.EndsWith(".approved.xml", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            yield return (Path.GetFileNameWithoutExtension(f), File.ReadAllText(f));
        foreach (var seed in new[] { 1, 3, 5, 7, 9, 11 })
            yield return ($"gen-{seed}", new DomainGenerator(seed).Generate(new DomainGenerator.Options(Machine: "pc", AllowPresetAddresses: false)));
    }

    /// <summary>What makes a device the guest's own, by a key that survives a conversion (source file, MAC, hostdev source).</summary>
    public sealed record Identity(string Key, string Kind, string? Target, string? Serial, string? Boot, string? Model);

    public static Dictionary<string, Identity> Identities(string xml)
    {
        var doc = System.Xml.Linq.XDocument.Parse(xml);
        var result = new Dictionary<string, Identity>();
        foreach (var d in doc.Root!.Element("devices")?.Elements() ?? [])
        {
            string? boot = d.Element("boot")?.Attribute("order")?.Value;
            switch (d.Name.LocalName)
            {
                case "disk":
                    var src = d.Element("source")?.Attributes().FirstOrDefault(a => a.Name.LocalName is "file" or "dev" or "name")?.Value;
                    if (src is null) continue;
                    result["disk " + src] = new("disk " + src, "disk", d.Element("target")?.Attribute("dev")?.Value, d.Element("serial")?.Value, boot, d.Element("target")?.Attribute("bus")?.Value);
                    break;
                case "interface":
                    var mac = d.Element("mac")?.Attribute("address")?.Value;
                    if (mac is null) continue;
                    result["nic " + mac] = new("nic " + mac, "interface", null, null, boot, d.Element("model")?.Attribute("type")?.Value);
                    break;
                case "hostdev":
                    var a = d.Element("source")?.Element("address");
                    var key = "hostdev " + string.Join(":", (a?.Attributes() ?? []).Select(x => x.Value));
                    result[key] = new(key, "hostdev", null, null, boot, null);
                    break;
                case "sound" or "video":
                    var model = d.Name.LocalName == "video" ? d.Element("model")?.Attribute("type")?.Value : d.Attribute("model")?.Value;
                    var n = result.Keys.Count(k => k.StartsWith(d.Name.LocalName + " ", StringComparison.Ordinal));
                    result[$"{d.Name.LocalName} {n}"] = new($"{d.Name.LocalName} {n}", d.Name.LocalName, null, null, null, model);
                    break;
            }
        }
        return result;
    }

    /// <summary>How much of the pc domain's devices a converted domain keeps.</summary>
    public sealed record Kept(int Devices, int Targets, int Serials, int BootOrders, int Models, int Of, int TargetsOf, int SerialsOf, int BootOf, int ModelsOf)
    {
        public int Score => Devices + Targets + Serials + BootOrders + Models;
        public static Kept Measure(Dictionary<string, Identity> before, Dictionary<string, Identity> after)
        {
            int Count(Func<Identity, string?> f, bool onlyKept) => before.Values.Count(b => f(b) is not null && (!onlyKept || (after.TryGetValue(b.Key, out var a) && f(a) == f(b))));
            return new(before.Keys.Count(after.ContainsKey), Count(i => i.Target, true), Count(i => i.Serial, true), Count(i => i.Boot, true),
                Count(i => i.Kind is "interface" or "sound" or "video" ? i.Model : null, true),
                before.Count, Count(i => i.Target, false), Count(i => i.Serial, false), Count(i => i.Boot, false), Count(i => i.Kind is "interface" or "sound" or "video" ? i.Model : null, false));
        }
    }
}

/// <summary>convert --to q35 on its own: approved snapshots, every identity kept, what q35 cannot host refused.</summary>
public sealed class ConversionTests
{
    private static Q35ConversionPlan Convert(string xml, string name = "pc.xml", string libvirt = "9.0") =>
        Q35Conversion.Convert(DomainDefinition.Parse(SourceText.FromString(name, xml)), new RewriteOptions { Libvirt = LibvirtProfile.For(Version.Parse(libvirt)) });

    public static IEnumerable<object[]> Fixtures() =>
        Directory.GetFiles(Path.Combine(Paths.Fixtures, "convert"), "*.xml").Where(f => !f.EndsWith(".approved.xml", StringComparison.Ordinal))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(f => new object[] { f! });

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Converted_fixture_matches_its_approved_snapshot(string file)
    {
        var input = Path.Combine(Paths.Fixtures, "convert", file);
        var plan = Q35Conversion.Convert(DomainDefinition.Parse(SourceText.FromBytes(file, File.ReadAllBytes(input))), new RewriteOptions() { Libvirt = ToolTarget.Libvirt90 });
        Approvals.Verify(Path.Combine(Paths.Fixtures, "convert", Path.GetFileNameWithoutExtension(file) + ".q35.approved.xml"), plan.Bytes);
    }

    [Fact]
    public void Every_pc_domain_keeps_every_device_identity_and_model()
    {
        foreach (var (name, xml) in PcDomains.All())
        {
            var before = PcDomains.Identities(xml);
            var plan = Convert(xml, name + ".xml");
            var kept = PcDomains.Kept.Measure(before, PcDomains.Identities(plan.Text));
            Assert.True(kept == new PcDomains.Kept(kept.Of, kept.TargetsOf, kept.SerialsOf, kept.BootOf, kept.ModelsOf, kept.Of, kept.TargetsOf, kept.SerialsOf, kept.BootOf, kept.ModelsOf), $"{name}: {kept}");
            var q35 = DomainDefinition.Parse(SourceText.FromString(name, plan.Text));
            Assert.Equal(MachineFamily.Q35, q35.Family);
            Assert.DoesNotContain(q35.Devices, d => d.ControllerType is "ide" || d.Element.Element("target")?.Attr("bus") == "ide" || d.Element.Attr("model") is "pci-root");
            Assert.Contains("urn:libvirt-pci:ledger:1", plan.Text);
            // converting the result again is refused (it is q35), and assigning it changes nothing
            Assert.False(Rewriter.Assign(q35, ToolTarget.Options).Changed, name);
        }
    }

    [Theory]
    [InlineData("pc", "q35")]
    [InlineData("pc-i440fx-7.2", "pc-q35-7.2")]
    [InlineData("pc-i440fx-rhel7.6.0", "pc-q35-rhel7.6.0")]
    [InlineData("pc-1.2", "q35")]
    public void Machine_types_map_to_their_q35_twin(string pc, string q35) => Assert.Equal(q35, Q35Conversion.MachineFor(pc));

    [Fact]
    public void What_q35_cannot_host_is_refused_in_words_and_q35_is_not_converted()
    {
        var ib700 = "<domain type='kvm'><name>w</name><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\n<watchdog model='ib700' action='reset'/>\n</devices></domain>";
        var e = Assert.Throws<InputException>(() => Convert(ib700));
        Assert.Equal("pc.xml:2:1: error LP241: watchdog/ib700#0: the ib700 watchdog is an ISA card libvirt allows only on i440fx; q35 cannot host it (fix: replace it with <watchdog model='i6300esb'/> (PCI) or model='itco' (q35's own) before converting)", e.Errors[0].Format("pc.xml"));
        // q35 has nothing to convert: the result is assign --stable's, and converting that again changes nothing.
        var q35 = File.ReadAllText(Path.Combine(Paths.Fixtures, "examples", "q35-web.xml"));
        var once = Convert(q35);
        Assert.Equal(once.MachineBefore, once.MachineAfter);
        Assert.Empty(once.Changes);
        Assert.Equal(Rewriter.Assign(SourceText.FromString("q35.xml", q35), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, Stable = true }).Text, once.Text);
        Assert.Equal(once.Text, Convert(once.Text).Text);
    }
}

/// <summary>
/// Side by side with virt-xml --edit --convert-to-q35 (virt-manager 5.0, Debian 13's virtinst, in
/// the trixie chroot): on the same pc domains, what each keeps; both outputs must be accepted by
/// virsh define, and ours keeps strictly more. Prints the table the README shows.
/// </summary>
[Trait("Category", "Integration")]
[Collection("libvirt")]
public sealed class VirtXmlComparisonTests(ITestOutputHelper output)
{
    private static string Virsh(LibvirtDaemon d, params string[] args)
    {
        var r = Proc.Run("virsh", ["-q", "-c", d.Uri, .. args]);
        Assert.True(r.Code == 0, $"virsh {string.Join(' ', args)}: {r.Err}");
        return r.Out;
    }

    [SkippableFact]
    public void Ours_keeps_strictly_more_than_virt_xml_and_libvirt_accepts_both()
    {
        var trixie = LibvirtDaemon.Trixie;
        trixie.Require();
        Sandbox.Require();
        var root = Path.Combine(Environment.GetEnvironmentVariable("LIBVIRT_SANDBOX_DIR") ?? "/var/tmp/libvirt-pci-trixie", "root");
        Require.Available(File.Exists(Path.Combine(root, "usr", "bin", "virt-xml")) ? null : "virt-xml is not in the trixie chroot (bash tools/libvirt-sandbox.sh --debian trixie make)");
        using var dir = new TempDir();
        var rows = new List<string>();
        int oursTotal = 0, theirsTotal = 0;
        foreach (var (name, xml0) in PcDomains.All())
        {
            var xml = xml0.Replace("type='kvm'", "type='qemu'", StringComparison.Ordinal);
            var domain = "cmp-" + name;
            var pc = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(System.Text.RegularExpressions.Regex.Replace(xml, "<name>[^<]*</name>", $"<name>{domain}</name>")));
            pc = System.Text.RegularExpressions.Regex.Replace(pc, @"\s*<uuid>[^<]*</uuid>", "");
            Virsh(trixie, "define", dir.File(domain + ".xml", Encoding.UTF8.GetBytes(pc)));
            try
            {
                var stored = Virsh(trixie, "dumpxml", "--inactive", domain);
                var chroot = Proc.Run("chroot", [root, "virt-xml", "-c", "qemu:///system", domain, "--edit", "--convert-to-q35", "--print-xml"]);
                Assert.True(chroot.Code == 0, $"virt-xml on {name}: {chroot.Err}");
                var theirs = chroot.Out;
                var ours = Q35Conversion.Convert(DomainDefinition.Parse(SourceText.FromString(name, stored)), new RewriteOptions { Libvirt = LibvirtProfile.For(new Version(11, 3)) }).Text;

                // both are accepted by libvirt 11.3 (virt-xml's as it would define it; ours as written)
                var theirsStored = trixie.Define(theirs);
                Assert.True(theirsStored.ExitCode == 0, $"{name}: libvirt refused virt-xml's output: {theirsStored.Stderr}");
                var oursStored = trixie.Define(ours);
                Assert.True(oursStored.ExitCode == 0, $"{name}: libvirt 11.3 refused ours: {oursStored.Stderr}");
                Assert.Empty(PciFacts.Diff(PciFacts.Of(ours), PciFacts.Of(oursStored.Stdout)));
                var oursOn90 = Q35Conversion.Convert(DomainDefinition.Parse(SourceText.FromString(name, stored)), new RewriteOptions { Libvirt = LibvirtProfile.For(new Version(9, 0)) }).Text;
                var host = Sandbox.Define(oursOn90.Replace("pc-q35-10.0", "q35", StringComparison.Ordinal));
                Assert.True(host.ExitCode == 0, $"{name}: libvirt 9.0 refused ours: {host.Stderr}");

                var before = PcDomains.Identities(stored);
                var k1 = PcDomains.Kept.Measure(before, PcDomains.Identities(theirsStored.Stdout));
                var k2 = PcDomains.Kept.Measure(before, PcDomains.Identities(oursStored.Stdout));
                Assert.True(k2.Devices >= k1.Devices && k2.Targets >= k1.Targets && k2.Serials >= k1.Serials && k2.BootOrders >= k1.BootOrders && k2.Models >= k1.Models, $"{name}: virt-xml {k1}, ours {k2}");
                Assert.Equal(k2.Of, k2.Devices);
                oursTotal += k2.Score;
                theirsTotal += k1.Score;
                string Cell(int t, int o, int of) => of == 0 ? "–" : $"{t}/{of} · **{o}/{of}**";
                rows.Add($"| {name} | {Cell(k1.Devices, k2.Devices, k2.Of)} | {Cell(k1.Targets, k2.Targets, k2.TargetsOf)} | {Cell(k1.Serials, k2.Serials, k2.SerialsOf)} | {Cell(k1.BootOrders, k2.BootOrders, k2.BootOf)} | {Cell(k1.Models, k2.Models, k2.ModelsOf)} | yes · yes |");
            }
            finally
            {
                Proc.Run("virsh", ["-c", trixie.Uri, "undefine", "--nvram", domain]);
            }
        }
        output.WriteLine("| pc domain | devices kept (virt-xml · **ours**) | disk targets kept | disk serials kept | boot orders kept | NIC/sound/video models kept | virsh define accepts |");
        output.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var r in rows) output.WriteLine(r);
        output.WriteLine($"kept in total: virt-xml {theirsTotal}, ours {oursTotal}");
        Console.WriteLine(string.Join("\n", rows) + $"\nkept in total: virt-xml {theirsTotal}, ours {oursTotal}");
        Assert.True(oursTotal > theirsTotal, $"ours {oursTotal} is not more than virt-xml's {theirsTotal}");
    }
}
