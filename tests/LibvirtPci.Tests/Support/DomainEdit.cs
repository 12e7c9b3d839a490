using LibvirtPci.Tools;
using LibvirtPci.Addressing;
using LibvirtPci.Guest;
using LibvirtPci.Domain;
using LibvirtPci.Rewrite;
using LibvirtPci.Xml;

namespace LibvirtPci.Tests.Support;

/// <summary>Small, lossless edits a user makes to a domain between runs, and lookups by identity.</summary>
public static class DomainEdit
{
    /// <summary>A q35 domain with ACPI, two virtio NICs and a virtio disk, without addresses (diff and hook tests).</summary>
    public const string TwoNicQ35 = """
        <domain type='kvm'>
          <name>web</name>
          <memory unit='MiB'>1024</memory>
          <os><type arch='x86_64' machine='q35'>hvm</type></os>
          <features><acpi/></features>
          <devices>
            <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/><model type='virtio'/></interface>
            <interface type='network'><mac address='52:54:00:00:00:02'/><source network='default'/><model type='virtio'/></interface>
            <disk type='file' device='disk'><source file='/x.img'/><target dev='vda' bus='virtio'/></disk>
          </devices>
        </domain>

        """;

    public static DomainDefinition Parse(string xml) => DomainDefinition.Parse(SourceText.FromString("test.xml", xml));

    public static RewritePlan Plan(string xml, bool stable = true, int? spare = null) =>
        Rewriter.Assign(SourceText.FromString("test.xml", xml), new RewriteOptions { Libvirt = ToolTarget.Libvirt90, Stable = stable, SparePorts = spare });

    public static string Assign(string xml, bool stable = true, int? spare = null) => Plan(xml, stable, spare).Text;

    public static string Remove(string xml, string key)
    {
        var domain = Parse(xml);
        var device = domain.Devices.Single(d => d.Key == key);
        var editor = new XmlEditor(domain.Document);
        editor.Remove(device.Element);
        return editor.Apply();
    }

    public static string Add(string xml, string markup)
    {
        var domain = Parse(xml);
        var editor = new XmlEditor(domain.Document);
        editor.AppendChild(domain.DevicesElement!, markup);
        return editor.Apply();
    }

    public static PciAddress? Address(string xml, string key) =>
        Parse(xml).Devices.SingleOrDefault(d => d.Key == key) is { Address.IsPciPresent: true } d ? d.Address.Pci : null;

    /// <summary>Every device's guest-visible address (firmware bus numbering), by key.</summary>
    public static Dictionary<string, PciAddress> GuestAddresses(string xml)
    {
        var domain = Parse(xml);
        var buses = GuestNumbering.Buses(domain);
        var map = new Dictionary<string, PciAddress>();
        foreach (var d in domain.Devices.Where(d => d.Address.IsPciPresent))
            if (GuestNumbering.GuestAddress(buses, d.Address.Pci) is { } g) map[d.Key] = g;
        return map;
    }

    public static string Nic(string mac, string model = "virtio") =>
        $"<interface type='network'>\n\t<mac address='{mac}'/>\n\t<source network='default'/>\n\t<model type='{model}'/>\n</interface>";

    public static string Disk(string dev, string bus = "virtio") =>
        $"<disk type='file' device='disk'>\n\t<source file='/var/lib/libvirt/images/{dev}.img'/>\n\t<target dev='{dev}' bus='{bus}'/>\n</disk>";

    public static string Hostdev(int bus, int slot) =>
        $"<hostdev mode='subsystem' type='pci' managed='yes'>\n\t<source>\n\t\t<address domain='0x0000' bus='0x{bus:x2}' slot='0x{slot:x2}' function='0x0'/>\n\t</source>\n</hostdev>";

    public static string DomainXml(string machine, params string[] devices) =>
        "<domain type='kvm'>\n  <name>stable</name>\n  <memory unit='MiB'>1024</memory>\n  <os>\n    <type arch='x86_64' machine='" + machine + "'>hvm</type>\n  </os>\n  <devices>\n"
        + string.Concat(devices.Select(d => string.Concat(d.Split('\n').Select(l => "    " + l.Replace("\t", "  ") + "\n"))))
        + "  </devices>\n</domain>\n";
}
