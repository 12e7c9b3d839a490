using LibvirtPci.Domain;
using LibvirtPci.Stability;
using LibvirtPci.Tests.Support;
using static LibvirtPci.Tests.Support.DomainEdit;

namespace LibvirtPci.Tests.Stability;

/// <summary>The Fedora "stable PCI addresses" scenario and its variants, with and without the ledger.</summary>
public sealed class StabilityTests
{
    private const string A = "52:54:00:00:00:0a", B = "52:54:00:00:00:0b", C = "52:54:00:00:00:0c";

    [Theory]
    [InlineData("q35")]
    [InlineData("pc")]
    public void Nics_keep_their_addresses_and_a_returning_nic_gets_its_own_back(string machine)
    {
        var v1 = Assign(DomainXml(machine, Nic(A), Nic(B)));
        var a = Address(v1, $"interface/{A}")!.Value;
        var b = Address(v1, $"interface/{B}")!.Value;
        var guest1 = GuestAddresses(v1);

        var v2 = Assign(Remove(v1, $"interface/{A}"));
        Assert.Equal(b, Address(v2, $"interface/{B}"));
        Assert.Contains($"<pci:released key='interface/{A}' address='{a}'/>", v2);

        var v3 = Assign(Add(v2, Nic(C)));
        var c = Address(v3, $"interface/{C}")!.Value;
        Assert.NotEqual(a, c);
        Assert.Equal(b, Address(v3, $"interface/{B}"));

        var v4 = Assign(Add(v3, Nic(A)));
        Assert.Equal(a, Address(v4, $"interface/{A}"));
        Assert.Equal(b, Address(v4, $"interface/{B}"));
        Assert.Equal(c, Address(v4, $"interface/{C}"));

        // Guest-visible bus numbers of everything that stayed are unchanged.
        var guest4 = GuestAddresses(v4);
        foreach (var (key, addr) in guest1)
            if (guest4.TryGetValue(key, out var now)) Assert.True(addr == now, $"{key} moved in the guest from {addr} to {now}");
    }

    [Theory]
    [InlineData("q35")]
    [InlineData("pc")]
    public void Without_the_ledger_libvirt_hands_the_removed_slot_to_the_new_device(string machine)
    {
        // The problem this tool solves, shown: plain libvirt behaviour reuses A's slot for C.
        var v1 = Assign(DomainXml(machine, Nic(A), Nic(B)), stable: false);
        var a = Address(v1, $"interface/{A}");
        var v3 = Assign(Add(Remove(v1, $"interface/{A}"), Nic(C)), stable: false);
        Assert.Equal(a, Address(v3, $"interface/{C}"));
    }

    [Theory]
    [InlineData("q35")]
    [InlineData("pc")]
    public void Disks_hostdevs_and_controllers_follow_the_same_rules(string machine)
    {
        var v1 = Assign(DomainXml(machine, Disk("vda"), Disk("vdb"), Hostdev(0x41, 3), Nic(A),
            "<controller type='scsi' index='0' model='virtio-scsi'/>", "<controller type='virtio-serial' index='0'/>"));
        var before = Parse(v1).Devices.Where(d => d.Address.IsPciPresent).ToDictionary(d => d.Key, d => d.Address.Pci);
        var cases = new[]
        {
            ("disk/vdb", Disk("vdb"), Disk("vdc"), "disk/vdc"),
            ("hostdev/pci/0000:41:03.0", Hostdev(0x41, 3), Hostdev(0x42, 1), "hostdev/pci/0000:42:01.0"),
            ("controller/scsi/0", "<controller type='scsi' index='0' model='virtio-scsi'/>", "<controller type='virtio-serial' index='1'/>", "controller/virtio-serial/1"),
        };
        foreach (var (key, again, other, otherKey) in cases)
        {
            var removed = Assign(Remove(v1, key));
            var newcomer = Assign(Add(removed, other));
            Assert.NotEqual(before[key], Address(newcomer, otherKey));
            var back = Assign(Add(newcomer, again));
            Assert.Equal(before[key], Address(back, key));
            foreach (var (k, addr) in before) Assert.Equal(addr, Address(back, k));
        }
    }

    [Theory]
    [InlineData("q35")]
    [InlineData("pc")]
    public void A_controller_removed_with_disks_behind_it_comes_back_at_its_address(string machine)
    {
        // libvirt re-creates the SCSI controller the disk needs; the ledger gives it its old slot.
        var v1 = Assign(DomainXml(machine, "<controller type='scsi' index='0' model='lsilogic'/>", Disk("sda", "scsi"), Nic(A)));
        var scsi = Address(v1, "controller/scsi/0");
        var v2 = Assign(Add(Remove(v1, "controller/scsi/0"), Nic(B)));
        Assert.Equal(scsi, Address(v2, "controller/scsi/0"));
        Assert.NotEqual(scsi, Address(v2, $"interface/{B}"));
    }

    [Fact]
    public void New_root_ports_are_appended_after_existing_ones()
    {
        // Slot 1 is free (no video); libvirt would put a new root port at 00:01.0, before the
        // existing ones, renumbering every guest bus. With the ledger it goes after them.
        var v1 = Assign(DomainXml("q35", Nic(A), "<video><model type='none'/></video>", "<controller type='usb' model='none'/>", "<memballoon model='none'/>"));
        var ports1 = Parse(v1).Devices.Where(d => d.Element.Attr("model") == "pcie-root-port").Select(d => d.Address.Pci).ToList();
        Assert.Equal(new PciAddress(0, 1, 0), ports1.Min());
        var guest1 = GuestAddresses(v1);
        var grown = v1;
        foreach (var mac in new[] { B, C, "52:54:00:00:00:0d", "52:54:00:00:00:0e" }) grown = Assign(Add(grown, Nic(mac)));
        var ports = Parse(grown).Devices.Where(d => d.Element.Attr("model") == "pcie-root-port").Select(d => d.Address.Pci).ToList();
        Assert.True(ports.Except(ports1).All(p => p.CompareTo(ports1.Max()) > 0), "a new root port sits before an existing one: " + string.Join(", ", ports));
        var guest = GuestAddresses(grown);
        foreach (var (key, addr) in guest1) Assert.Equal(addr, guest[key]);
    }

    [Fact]
    public void Spare_ports_are_kept_empty_at_the_end()
    {
        var xml = Assign(DomainXml("q35", Nic(A), Disk("vda")), stable: false, spare: 4);
        var domain = Parse(xml);
        var ports = domain.Devices.Where(d => d.Element.Attr("model") == "pcie-root-port").ToList();
        var used = domain.Devices.Where(d => d.Address.IsPciPresent).Select(d => d.Address.Pci.Bus).ToHashSet();
        var empty = ports.Where(p => !used.Contains(p.Index!.Value)).ToList();
        Assert.Equal(4, empty.Count);
        // Adding a device takes a spare; the next run restores four.
        var again = Assign(Add(xml, Nic(B)), stable: false, spare: 4);
        var d2 = Parse(again);
        var used2 = d2.Devices.Where(d => d.Address.IsPciPresent).Select(d => d.Address.Pci.Bus).ToHashSet();
        Assert.Equal(4, d2.Devices.Count(p => p.Element.Attr("model") == "pcie-root-port" && !used2.Contains(p.Index!.Value)));
    }

    [Fact]
    public void Spare_ports_are_refused_when_they_would_break_the_boot()
    {
        // On pc-q35-6.1 every root port costs SeaBIOS an I/O window, empty or not: 14 fit.
        var xml = DomainXml("pc-q35-6.1", Nic(A), "<controller type='usb' index='0' model='none'/>", "<memballoon model='none'/>");
        Assert.Contains("pcie-root-port", Assign(xml, stable: false, spare: 8));
        var e = Assert.Throws<InputException>(() => Assign(xml, stable: false, spare: 20));
        Assert.Equal("LP226", e.Code);
        Assert.Contains("SeaBIOS can give bridges", e.Message);
    }

    [Fact]
    public void Released_slots_go_to_new_devices_only_when_nothing_else_is_left_and_then_with_a_warning()
    {
        // pc, bus 0 full of hand-addressed NICs (slots 2-31): no room even for a pci-bridge.
        var nics = Enumerable.Range(2, 30).Select(s => $"<interface type='network'>\n\t<mac address='52:54:00:00:01:{s:x2}'/>\n\t<model type='e1000'/>\n\t<address type='pci' domain='0x0000' bus='0x00' slot='0x{s:x2}' function='0x0'/>\n</interface>");
        var xml = DomainXml("pc", new[] { "<controller type='usb' index='0' model='none'/>", "<memballoon model='none'/>" }.Concat(nics).ToArray());
        var v1 = Assign(xml);
        var v2 = Assign(Remove(v1, "interface/52:54:00:00:01:05"));
        var v3 = Plan(Add(v2, Nic(C, "e1000")));
        // Like libvirt, the one free slot on pc goes to a pci-bridge (room to grow), the NIC behind it.
        Assert.Equal(new PciAddress(0, 5, 0), Address(v3.Text, "controller/pci/1"));
        Assert.Equal(1, Address(v3.Text, $"interface/{C}")!.Value.Bus);
        var warning = Assert.Single(v3.Findings, f => f.Code == "LP501");
        Assert.Contains("takes 0000:00:05.0, released by interface/52:54:00:00:01:05", warning.Message);

        // With a free slot elsewhere (a pci-bridge given by hand), the released slot stays unused.
        var v2b = Assign(Add(Remove(v2, "interface/52:54:00:00:01:1f"), "<controller type='pci' index='1' model='pci-bridge'>\n\t<address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x0'/>\n</controller>"));
        var v3b = Plan(Add(v2b, Nic(C, "e1000")));
        Assert.Equal(1, Address(v3b.Text, $"interface/{C}")!.Value.Bus);
        Assert.DoesNotContain(v3b.Findings, f => f.Code == "LP501");
    }

    [Fact]
    public void A_contradictory_ledger_is_an_error_and_a_vanished_bus_a_warning()
    {
        var xml = DomainXml("q35", Nic(A)).Replace("<memory", "<metadata>\n    <pci:ledger xmlns:pci='urn:libvirt-pci:ledger:1'>\n      <pci:device key='interface/x' address='0000:01:00.0'/>\n      <pci:device key='interface/y' address='0000:01:00.0'/>\n    </pci:ledger>\n  </metadata>\n  <memory", StringComparison.Ordinal);
        var e = Assert.Throws<InputException>(() => Assign(xml));
        Assert.Equal("LP401", e.Code);
        Assert.Contains("two devices have address 0000:01:00.0", e.Message);
        Assert.Equal(6, e.Line); // the second entry claiming the address

        // A bus that is gone (its controller removed by another editor) voids the address, with a warning.
        var missingBus = DomainXml("q35", Nic(A)).Replace("<memory", $"<metadata><x:ledger xmlns:x='urn:libvirt-pci:ledger:1'><x:device key='interface/{A}' address='0000:07:00.0'/><x:released key='controller/pci/7' address='0000:00:02.6'/></x:ledger></metadata>\n  <memory", StringComparison.Ordinal);
        var plan = Plan(missingBus);
        var warning = Assert.Single(plan.Findings, f => f.Code == "LP505");
        Assert.Contains($"interface/{A} was at 0000:07:00.0, but the controller of bus 7 is gone", warning.Message);
        Assert.NotEqual(new PciAddress(0, 7, 0, 0), Address(plan.Text, $"interface/{A}"));

        var garbage = DomainXml("q35").Replace("<memory", "<metadata><pci:ledger xmlns:pci='urn:libvirt-pci:ledger:1'><pci:device key='k' address='nope'/></pci:ledger></metadata>\n  <memory", StringComparison.Ordinal);
        Assert.Equal("LP401", Assert.Throws<InputException>(() => Assign(garbage)).Code);
    }

    [Fact]
    public void An_unchanged_ledger_keeps_its_bytes_even_as_libvirt_reformats_it()
    {
        var v1 = Assign(DomainXml("q35", Nic(A)));
        // libvirt writes foreign metadata back with double quotes and its own indentation.
        var libvirtStyle = v1.Replace("<pci:ledger xmlns:pci='urn:libvirt-pci:ledger:1'>", "<pci:ledger xmlns:pci=\"urn:libvirt-pci:ledger:1\">", StringComparison.Ordinal);
        Assert.Equal(libvirtStyle, Assign(libvirtStyle));
        Assert.False(Plan(libvirtStyle).Changed);
    }

    [Theory]
    [InlineData("&#10;"), InlineData("&#13;"), InlineData("&#9;"), InlineData("&#xA;&#x9;")]
    public void A_key_with_a_line_break_or_tab_is_written_so_that_it_reads_back_the_same(string reference)
    {
        // libxml2 writes such characters as references; written raw in the ledger they would read
        // back as spaces, the key would be another, and the second run would change the file.
        var fs = $"<filesystem type='mount'><driver type='virtiofs'/><source dir='/srv/a'/><target dir='tag{reference}two'/></filesystem>";
        var once = Assign(DomainXml("q35", fs));
        Assert.Equal(once, Assign(once));
        Assert.False(Plan(once).Changed);
    }

    [Fact]
    public void Ledger_round_trips_through_its_markup()
    {
        var ledger = new AddressLedger([new LedgerEntry("disk/vda", new PciAddress(0, 4, 0, 0), false), new LedgerEntry("interface/x", new PciAddress(0, 1, 0, 0), true)]);
        var doc = global::LibvirtPci.Xml.XmlSpanParser.Parse(global::LibvirtPci.Xml.SourceText.FromString("l.xml", ledger.ToMarkup("p", '"')));
        Assert.True(AddressLedger.Read(doc, doc.Root).SameAs(ledger));
    }
}

/// <summary>The ledger beside libvirt's own editors: what they do is reconciled with warnings, never refused.</summary>
public sealed class ForeignEditorTests
{
    private const string A = "52:54:00:00:00:0a", B = "52:54:00:00:00:0b";

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // detach and attach with nothing run between them: the ledger still lists A as present
    public void A_released_slot_taken_by_attach_device_is_reconciled_and_the_returning_device_gets_a_new_address(bool assignedBetween)
    {
        // --stable domain with NIC A; A detached; NIC B attached the way libvirt does it (into A's released slot).
        var v1 = Assign(DomainXml("q35", Nic(A), Disk("vda")));
        var slotA = Address(v1, $"interface/{A}")!.Value;
        var v2 = assignedBetween ? Assign(Remove(v1, $"interface/{A}")) : Remove(v1, $"interface/{A}");
        var attached = Add(v2, Nic(B).Replace("</interface>", $"\t<address type='pci' domain='0x0000' bus='0x{slotA.Bus:x2}' slot='0x{slotA.Slot:x2}' function='0x0'/>\n</interface>", StringComparison.Ordinal));

        var v3 = Plan(attached);
        var taken = Assert.Single(v3.Findings, f => f.Code == "LP503");
        Assert.Equal(Severity.Warning, taken.Severity);
        Assert.Contains($"interface/{B} now holds {slotA}, which interface/{A} released", taken.Message);
        Assert.Contains($"taken-by='interface/{B}'", v3.Text);
        Assert.DoesNotContain(Plan(v3.Text).Findings, f => f.Code == "LP503"); // said once

        // A comes back without an address: a fresh one, a warning saying why, no duplicate.
        var v4 = Plan(Add(v3.Text, Nic(A)));
        var back = Assert.Single(v4.Findings, f => f.Code == "LP504");
        var newA = Address(v4.Text, $"interface/{A}")!.Value;
        Assert.NotEqual(slotA, newA);
        Assert.Equal(slotA, Address(v4.Text, $"interface/{B}"));
        Assert.Contains($"interface/{A} comes back at {newA}: its old address {slotA} is held by interface/{B}", back.Message);
        Assert.DoesNotContain(global::LibvirtPci.Addressing.AddressLint.Check(Parse(v4.Text)), f => f.Severity == Severity.Error);
        Assert.False(Plan(v4.Text).Changed);
    }

    [Fact]
    public void Tree_shows_a_port_held_for_a_released_device_and_explain_says_it_was_skipped()
    {
        var v1 = Assign(DomainXml("q35", Nic(A), Nic(B)));
        var slotA = Address(v1, $"interface/{A}")!.Value;
        var v2 = Assign(Remove(v1, $"interface/{A}"));
        using var dir = new TempDir();
        var path = dir.File("vm.xml", System.Text.Encoding.UTF8.GetBytes(v2));
        var tree = Support.Cli.Run("tree", path);
        Assert.Contains($"(empty: held for interface/{A}, released; it gets this address back when it returns)", tree.Stdout);

        File.WriteAllText(path, Add(v2, Nic("52:54:00:00:00:0c")));
        var explain = Support.Cli.Run("--explain", "-i", path);
        Assert.True(explain.ExitCode == 0, explain.Stderr);
        Assert.Contains($"skipped {slotA} (released by interface/{A}), kept for their devices' return", explain.Stderr);
    }

    [Fact]
    public void A_changed_ledger_is_written_in_its_own_style_so_only_changed_entries_differ()
    {
        var v1 = Assign(DomainXml("q35", Nic(A), Nic(B), Disk("vda")));
        // As libvirt stores it: foreign metadata comes back with double quotes.
        int start = v1.IndexOf("<pci:ledger", StringComparison.Ordinal), end = v1.IndexOf("</pci:ledger>", StringComparison.Ordinal);
        var libvirtStyle = v1[..start] + v1[start..end].Replace('\'', '"') + v1[end..];
        var v2 = Assign(Remove(libvirtStyle, $"interface/{A}"));
        var before = libvirtStyle.Split('\n').Where(l => l.Contains("<pci:", StringComparison.Ordinal)).ToHashSet();
        var changed = v2.Split('\n').Where(l => l.Contains("<pci:", StringComparison.Ordinal) && !before.Contains(l)).ToList();
        Assert.Equal([$"      <pci:released key=\"interface/{A}\" address=\"{Address(v1, $"interface/{A}")}\"/>"], changed);
    }
}
