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
    public void File(string name, bool? changed, IReadOnlyList<Finding> findings, IReadOnlyList<DeviceOutcome>? devices, (string Version, string From)? libvirt = null)
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
    public void Domain(string name, string status, IReadOnlyList<Finding> findings, string? error = null, string? backup = null, string? before = null, string? after = null, string? note = null)
    {
        _w.WriteStartObject();
        _w.WriteString("domain", name);
        _w.WriteString("status", status);
        if (error is not null) _w.WriteString("error", error);
        if (note is not null) _w.WriteString("note", note);
        if (backup is not null) _w.WriteString("backup", backup);
        if (before is not null) _w.WriteString("before", before);
        if (after is not null) _w.WriteString("after", after);
        WriteFindings(findings, name);
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
