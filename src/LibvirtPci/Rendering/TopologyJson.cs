using System.Text;
using System.Text.Json;
using LibvirtPci.Addressing;
using LibvirtPci.Domain;
using LibvirtPci.Limits;
using static LibvirtPci.Rendering.TopologyFormats;

namespace LibvirtPci.Rendering;

/// <summary>The topology as JSON: the bus tree with each bus's devices, guest addresses and I/O windows.</summary>
internal sealed class TopologyJson(Topology topology, IoSpaceAnalysis? io)
{
    private readonly Dictionary<int, PortIoNeed> _need = PortNeeds(io);
    private readonly (HashSet<int> PastFirmware, HashSet<int> NoIoInGuest) _marked = MarkedPorts(io, topology);

    public string Render(string name, DomainDefinition domain, (string Version, string From)? libvirt)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("file", name);
            w.WriteString("machine", domain.Machine);
            if (libvirt is var (v, from)) { w.WriteString("libvirt", v); w.WriteString("libvirtFrom", from); }
            w.WritePropertyName("root");
            Bus(w, topology.Root);
            w.WriteStartArray("unaddressed");
            foreach (var d in topology.Unaddressed) w.WriteStringValue(d.Key);
            w.WriteEndArray();
            w.WriteStartArray("orphans");
            foreach (var d in topology.Orphans) w.WriteStringValue(d.Key);
            w.WriteEndArray();
            if (io is not null)
            {
                w.WriteStartObject("io");
                w.WriteString("firmware", io.Firmware.Name);
                w.WriteNumber("windowsNeeded", io.WindowsNeeded);
                w.WriteNumber("windowsAvailable", io.Firmware.BridgeWindows);
                w.WriteBoolean("bootFails", io.BootFails);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private void Bus(Utf8JsonWriter w, TopologyBus bus)
    {
        w.WriteStartObject();
        w.WriteNumber("index", bus.Index);
        w.WriteString("model", bus.Model?.XmlName() ?? "pci");
        if (topology.GuestBuses.TryGetValue(bus.Index, out var g)) w.WriteNumber("guestBus", g);
        if (bus.Controller is { } c) w.WriteString("controllerAddress", c.Address.Pci.ToString());
        if (bus.IsEmptyHotplugPort) w.WriteBoolean("emptyHotplugPort", true);
        if (bus.HeldFor is { } held) w.WriteString("heldFor", held);
        if (_need.TryGetValue(bus.Index, out var p))
        {
            w.WriteNumber("ioWindows", p.Windows);
            if (p.IoReserveOff) w.WriteBoolean("ioReserveOff", true);
            if (_marked.PastFirmware.Contains(bus.Index)) w.WriteBoolean("pastFirmwareLimit", true);
            if (_marked.NoIoInGuest.Contains(bus.Index)) w.WriteBoolean("noIoWindowInGuest", true);
        }
        w.WriteStartArray("devices");
        foreach (var d in bus.Devices.Where(d => d.ControllerType != "pci" || !bus.Children.Any(ch => ch.Controller == d)))
            Device(w, d);
        w.WriteEndArray();
        w.WriteStartArray("buses");
        foreach (var child in bus.Children) Bus(w, child);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private void Device(Utf8JsonWriter w, Device d)
    {
        w.WriteStartObject();
        w.WriteString("key", d.Key);
        w.WriteString("element", d.Kind);
        if (d.Model is { } m) w.WriteString("model", m);
        w.WriteString("address", d.Address.Pci.ToString());
        if (d.Address.Multifunction == true) w.WriteBoolean("multifunction", true);
        if (topology.Guest[d.Key] is { } ga)
        {
            w.WriteString("guest", Bdf(ga.Location));
            if (ga.Nic is { } nic) w.WriteString("linuxName", nic.Name);
        }
        w.WriteEndObject();
    }
}
