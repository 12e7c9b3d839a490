using System.Collections.Concurrent;
using System.Text.Json;
using LibvirtPci.Addressing;
using LibvirtPci.Passthrough;

namespace LibvirtPci.Cli;

/// <summary>
/// <c>.libvirt-pci.json</c>, found by walking up from each input file: a repository of VM
/// definitions pins the libvirt its fleet runs and its defaults, so that the pre-commit hook and
/// every user check the same way. Command-line flags win over it. Read with System.Text.Json;
/// anything it does not know is an error with its place, never ignored.
/// <code>{ "libvirtVersion": "11.3", "stable": true, "sparePorts": 2, "ioReserve": "per-port", "ovmfVersion": "2022.11" }</code>
/// </summary>
public sealed record ProjectSettings(string File, LibvirtProfile? Libvirt, bool? Stable, int? SparePorts, IoReserveMode? IoReserve, bool NewerThanKnown, bool? AcpiIndex = null, string? Ovmf = null)
{
    public const string FileName = ".libvirt-pci.json";

    /// <summary>The settings that apply to files in <paramref name="directory"/>, or null; <paramref name="cache"/> holds what each directory resolved to.</summary>
    /// <summary>The settings for an input: looked for above the file; for stdin above <paramref name="stdinName"/> (a hook's staged path), else above the working folder.</summary>
    public static ProjectSettings? ForInput(string path, ConcurrentDictionary<string, ProjectSettings?> cache, string? stdinName = null) =>
        Find(Path.GetDirectoryName(path == "-" ? stdinName ?? "" : path) ?? "", cache);

    public static ProjectSettings? Find(string directory, ConcurrentDictionary<string, ProjectSettings?> cache)
    {
        var dir = Path.GetFullPath(directory.Length == 0 ? "." : directory);
        if (cache.TryGetValue(dir, out var known)) return known;
        var file = Path.Combine(dir, FileName);
        var found = System.IO.File.Exists(file) ? Read(file)
            : Path.GetDirectoryName(dir) is { } parent && parent != dir ? Find(parent, cache) : null;
        cache[dir] = found;
        return found;
    }

    public static ProjectSettings Read(string path)
    {
        var input = FileIO.Read(path);
        try
        {
            using var doc = JsonDocument.Parse(input.Bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, "the settings must be a JSON object", input.Bytes, 0);
            LibvirtProfile? libvirt = null;
            bool? stable = null;
            int? spare = null;
            IoReserveMode? io = null;
            bool newer = false;
            bool? acpi = null;
            string? ovmf = null;
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "libvirtVersion" when p.Value.ValueKind == JsonValueKind.String:
                        libvirt = LibvirtProfile.Parse(p.Value.GetString()!, out var error, out newer) ?? throw Bad(path, $"libvirtVersion: {error}", input.Bytes, p);
                        break;
                    case "stable" when p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                        stable = p.Value.GetBoolean();
                        break;
                    case "acpiIndex" when p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                        acpi = p.Value.GetBoolean();
                        break;
                    case "sparePorts" when p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var n) && n is >= 0 and <= 240:
                        spare = n;
                        break;
                    case "ioReserve" when p.Value.ValueKind == JsonValueKind.String && OptionValues.IoReserveModeOf(p.Value.GetString()!) is { } mode:
                        io = mode;
                        break;
                    case "ovmfVersion" when p.Value.ValueKind == JsonValueKind.String && Limits.FirmwareReleases.Normalize(p.Value.GetString()!) is { } release:
                        ovmf = release;
                        break;
                    case "libvirtVersion" or "stable" or "sparePorts" or "ioReserve" or "acpiIndex" or "ovmfVersion":
                        throw Bad(path, $"{p.Name}: {p.Value.GetRawText()} is not a valid value (libvirtVersion: \"X.Y\"; stable, acpiIndex: true/false; sparePorts: 0 to 240; ioReserve: \"off\", \"per-port\" or \"remove\"; ovmfVersion: \"YYYY.MM\")", input.Bytes, p);
                    default:
                        throw Bad(path, $"unknown setting \"{p.Name}\" (known: libvirtVersion, stable, sparePorts, ioReserve, acpiIndex, ovmfVersion)", input.Bytes, p);
                }
            }
            return new ProjectSettings(path, libvirt, stable, spare, io, newer, acpi, ovmf);
        }
        catch (JsonException e)
        {
            // (System.Text.Json's message quotes the input, newlines and all, and ends with the position we give ourselves)
            var why = e.Message.ReplaceLineEndings(" ").Split(" LineNumber:")[0].Split(" Path:")[0].TrimEnd('.', ' ');
            throw new InputException(path, "LP230", "not valid JSON: " + why,
                (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
        }
    }

    private static InputException Bad(string path, string message, byte[] bytes, JsonProperty property) =>
        Bad(path, message, bytes, IndexOf(bytes, property));

    private static InputException Bad(string path, string message, byte[] bytes, int offset)
    {
        int line = 1, column = 1;
        for (int i = 0; i < offset && i < bytes.Length; i++)
            if (bytes[i] == '\n') (line, column) = (line + 1, 1); else column++;
        return new InputException(path, "LP230", message, line, column);
    }

    /// <summary>Where a property's name stands in the file (JsonDocument keeps no positions): its first quoted occurrence.</summary>
    private static int IndexOf(byte[] bytes, JsonProperty property) =>
        Math.Max(0, bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes("\"" + property.Name + "\"")));
}
