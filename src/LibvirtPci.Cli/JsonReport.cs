using System.Text;
using System.Text.Json;
using LibvirtPci.Rewrite;

namespace LibvirtPci.Cli;

/// <summary>The --json report, written with Utf8JsonWriter (no reflection: NativeAOT-safe).</summary>
public sealed class JsonReport
{
    private readonly MemoryStream _buffer = new();
    private readonly Utf8JsonWriter _w;

    public JsonReport() : this("files") { }

    /// <param name="listName">the array the entries go in ("files"; migrate: "domains")</param>
    /// <param name="header">more top-level fields, written before the list</param>
    public JsonReport(string listName, Action<Utf8JsonWriter>? header = null)
    {
        // Relaxed escaping: the report is read by people and tools, never embedded in HTML.
        _w = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _w.WriteStartObject();
        _w.WriteString("tool", "libvirt-pci");
        _w.WriteString("version", Commands.Version);
        header?.Invoke(_w);
        _w.WriteStartArray(listName);
    }

    /// <param name="libvirt">the libvirt whose choices were reproduced, and where that choice came from</param>
    public void File(string name, bool? changed, IReadOnlyList<Finding> findings, IReadOnlyList<DeviceOutcome>? devices, (string Version, string From)? libvirt = null,
        LibvirtPci.Guest.GuestDiff? guest = null)
    {
        _w.WriteStartObject();
        _w.WriteString("file", name);
        _w.WriteString("status", findings.Any(f => f.Severity == Severity.Error) ? "error" : "ok");
        if (libvirt is var (version, from))
        {
            _w.WriteString("libvirt", version);
            _w.WriteString("libvirtFrom", from);
        }
        if (changed is { } c) _w.WriteBoolean("changed", c);
        if (guest is not null) DiffCommand.WriteChanges(_w, "guestVisibleChanges", guest.IdentityChanges);
        if (devices is not null)
        {
            _w.WriteStartArray("devices");
            foreach (var d in devices)
            {
                _w.WriteStartObject();
                _w.WriteString("key", d.Key);
                _w.WriteString("element", d.Kind);
                if (d.Address is null) _w.WriteNull("address"); else _w.WriteString("address", d.Address);
                if (d.Multifunction) _w.WriteBoolean("multifunction", true);
                _w.WriteString("origin", d.Origin);
                _w.WriteBoolean("added", d.Added);
                if (d.Line > 0) _w.WriteNumber("line", d.Line);
                _w.WriteString("reason", d.Reason);
                _w.WriteEndObject();
            }
            _w.WriteEndArray();
        }
        WriteFindings(findings, name);
        _w.WriteEndObject();
    }

    /// <summary>One domain of `migrate --json`: what happened, and its XML before and after when it changed (Ansible's diff mode shows them).</summary>
    public void Domain(string name, string status, IReadOnlyList<Finding> findings, string? error = null, string? backup = null, string? before = null, string? after = null, string? note = null,
        LibvirtPci.Guest.GuestDiff? guest = null)
    {
        _w.WriteStartObject();
        _w.WriteString("domain", name);
        _w.WriteString("status", status);
        if (error is not null) _w.WriteString("error", error);
        if (note is not null) _w.WriteString("note", note);
        if (backup is not null) _w.WriteString("backup", backup);
        if (before is not null) _w.WriteString("before", before);
        if (after is not null) _w.WriteString("after", after);
        if (guest is not null) DiffCommand.WriteChanges(_w, "guestVisibleChanges", guest.IdentityChanges);
        WriteFindings(findings, name);
        _w.WriteEndObject();
    }

    /// <summary>One file of `convert --json`: the machines, each device before and after, what was dropped.</summary>
    public void Conversion(string name, LibvirtPci.Conversion.Q35ConversionPlan plan, (string Version, string From) libvirt)
    {
        _w.WriteStartObject();
        _w.WriteString("file", name);
        _w.WriteString("status", plan.Plan.Findings.Any(f => f.Severity == Severity.Error) ? "error" : "ok");
        _w.WriteString("libvirt", libvirt.Version);
        _w.WriteString("libvirtFrom", libvirt.From);
        _w.WriteString("machineBefore", plan.MachineBefore);
        _w.WriteString("machineAfter", plan.MachineAfter);
        _w.WriteStartArray("devices");
        foreach (var c in plan.Changes)
        {
            _w.WriteStartObject();
            _w.WriteString("key", c.Key);
            _w.WriteString("element", c.Kind);
            if (c.Before is null) _w.WriteNull("before"); else _w.WriteString("before", c.Before);
            if (c.After is null) _w.WriteNull("after"); else _w.WriteString("after", c.After);
            if (c.ModelBefore is not null) _w.WriteString("modelBefore", c.ModelBefore);
            if (c.ModelAfter is not null) _w.WriteString("modelAfter", c.ModelAfter);
            if (c.Note is not null) _w.WriteString("note", c.Note);
            _w.WriteEndObject();
        }
        _w.WriteEndArray();
        _w.WriteStartArray("dropped");
        foreach (var d in plan.Dropped) _w.WriteStringValue(d);
        _w.WriteEndArray();
        WriteFindings(plan.Plan.Findings, name);
        _w.WriteEndObject();
    }

    private void WriteFindings(IReadOnlyList<Finding> findings, string file)
    {
        _w.WriteStartArray("findings");
        foreach (var f in findings)
        {
            _w.WriteStartObject();
            _w.WriteString("code", f.Code);
            _w.WriteString("severity", f.Severity.ToString().ToLowerInvariant());
            _w.WriteString("message", f.Message);
            if (f.Line > 0) { _w.WriteNumber("line", f.Line); _w.WriteNumber("column", f.Column); }
            if (f.Fix is not null) _w.WriteString("fix", f.Fix);
            _w.WriteString("text", f.Format(file)); // the line the CLI prints: FILE:LINE:COL: severity CODE: message
            _w.WriteEndObject();
        }
        _w.WriteEndArray();
    }

    public void Skipped(string name, string why)
    {
        _w.WriteStartObject();
        _w.WriteString("file", name);
        _w.WriteString("status", "skipped");
        _w.WriteString("reason", why);
        _w.WriteEndObject();
    }

    public void Failed(InputException e)
    {
        _w.WriteStartObject();
        _w.WriteString("file", e.File);
        _w.WriteString("status", "error");
        WriteFindings(e.Errors, e.File);
        _w.WriteEndObject();
    }

    /// <param name="footer">more top-level fields, written after the list</param>
    public string ToJson(Action<Utf8JsonWriter>? footer = null)
    {
        _w.WriteEndArray();
        footer?.Invoke(_w);
        _w.WriteEndObject();
        _w.Flush();
        return Encoding.UTF8.GetString(_buffer.ToArray()) + "\n";
    }
}
