using LibvirtPci.Tools;
using LibvirtPci.Domain;
using LibvirtPci.Limits;
using LibvirtPci.Passthrough;
using LibvirtPci.Rewrite;
using LibvirtPci.Tests.Support;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Passthrough;

/// <summary>The io-reserve injection: snapshots of every form, idempotence, clean removal.</summary>
public sealed class IoReserveTests
{
    public static IEnumerable<object[]> Cases() =>
        from f in new[] { "q35-plain", "q35-existing-qemu-namespace" }
        from m in new[] { "off", "per-port" }
        select new object[] { f, m };

    private static IoReserveMode Mode(string m) => m == "off" ? IoReserveMode.Off : IoReserveMode.PerPort;

    private static RewritePlan Run(byte[] bytes, IoReserveMode mode) =>
        Rewriter.Assign(SourceText.FromBytes("io.xml", bytes), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, IoReserve = mode });

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(Paths.Fixtures, "ioreserve", name + ".in.xml"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Injection_matches_its_snapshot_and_twice_is_once(string fixture, string mode)
    {
        var once = Run(Fixture(fixture), Mode(mode));
        Approvals.Verify(Path.Combine(Paths.Fixtures, "ioreserve", $"{fixture}.{mode}.approved.xml"), once.Bytes);
        var twice = Run(once.Bytes, Mode(mode));
        Assert.Equal(once.Bytes, twice.Bytes);
        var domain = DomainDefinition.Parse(SourceText.FromBytes("io.xml", once.Bytes));
        // Declared once, on <domain>, with the existing prefix when there was one.
        Assert.Single(domain.Root.Attributes, a => a.Value == DomainDefinition.QemuNamespace);
        var settings = IoReserveSettings.Read(domain);
        if (mode == "off") Assert.True(settings.Global);
        else Assert.NotEmpty(settings.PerPortAliases);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Remove_takes_the_injection_out(string fixture, string mode)
    {
        var original = Run(Fixture(fixture), IoReserveMode.Keep).Bytes; // addressed, nothing injected
        var injected = Run(original, Mode(mode));
        Assert.NotEqual(original, injected.Bytes);
        var removed = Run(injected.Bytes, IoReserveMode.Remove);
        if (mode == "off")
            Assert.Equal(original, removed.Bytes); // byte for byte
        var settings = IoReserveSettings.Read(DomainDefinition.Parse(SourceText.FromBytes("io.xml", removed.Bytes)));
        Assert.False(settings.Global);
        Assert.Empty(settings.PerPortAliases);
        Assert.Equal(removed.Bytes, Run(removed.Bytes, IoReserveMode.Remove).Bytes); // removing twice = once
    }

    [Fact]
    public void Per_port_leaves_ports_with_io_devices_alone_and_global_warns_about_them()
    {
        var perPort = Run(Fixture("q35-plain"), IoReserveMode.PerPort);
        var domain = DomainDefinition.Parse(SourceText.FromBytes("io.xml", perPort.Bytes));
        var analysis = IoSpaceBudget.Analyze(domain, ToolTarget.Debian12Firmware)!;
        var e1000ePort = analysis.Ports.Single(p => p.Windows > 0);
        Assert.False(e1000ePort.IoReserveOff);
        Assert.All(analysis.Ports.Where(p => p.Windows == 0), p => Assert.True(p.IoReserveOff));
        Assert.Empty(analysis.DevicesLosingIo);

        var global = Run(Fixture("q35-plain"), IoReserveMode.Off);
        var lost = Assert.Single(global.Findings, f => f.Code == "LP606");
        Assert.Contains("interface/52:54:00:00:10:02: e1000e has an I/O BAR", lost.Message);
        Assert.Contains(global.Findings, f => f.Code == "LP612"); // tainted
    }

    [Fact]
    public void Per_port_for_a_libvirt_without_qemu_override_writes_the_global_fix_instead()
    {
        // libvirt 7.0 accepts <qemu:override> and drops it: the fix the user asked for would vanish.
        var old = new RewriteOptions { IoReserve = IoReserveMode.PerPort, Libvirt = global::LibvirtPci.Addressing.LibvirtProfile.For(new Version(7, 0)) };
        var plan = Rewriter.Assign(SourceText.FromBytes("io.xml", Fixture("q35-plain")), old);
        Assert.DoesNotContain("override", plan.Text);
        Assert.True(IoReserveSettings.Read(DomainEdit.Parse(plan.Text)).Global);
        Assert.Contains(plan.Findings, f => f.Code == "LP613" && f.Severity == Severity.Warning);
        Assert.False(Rewriter.Assign(SourceText.FromString("io.xml", plan.Text), old).Changed); // a fixed point
        var current = Rewriter.Assign(SourceText.FromBytes("io.xml", Fixture("q35-plain")), old with { Libvirt = global::LibvirtPci.Addressing.LibvirtProfile.For(new Version(8, 2)) });
        Assert.Contains("override", current.Text);
    }

    [Fact]
    public void On_pc_nothing_is_injected()
    {
        var pc = Rewriter.Assign(SourceText.FromString("pc.xml", DomainEdit.DomainXml("pc", DomainEdit.Nic("52:54:00:00:00:01"))), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, IoReserve = IoReserveMode.Off });
        Assert.DoesNotContain("qemu:", pc.Text);
        Assert.Contains(pc.Findings, f => f.Code == "LP610");
    }

    [Fact]
    public void Per_port_aliases_do_not_change_the_ledger()
    {
        var stable = Rewriter.Assign(SourceText.FromBytes("io.xml", Fixture("q35-plain")), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, Stable = true });
        var perPort = Rewriter.Assign(SourceText.FromBytes("io.xml", stable.Bytes), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, IoReserve = IoReserveMode.PerPort });
        Assert.Contains("ua-pci-rp", perPort.Text);
        Assert.True(perPort.Ledger!.SameAs(stable.Ledger));
    }
}
