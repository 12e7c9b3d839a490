using System.Text.RegularExpressions;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Architecture;

/// <summary>
/// The library's folders are layers: no two depend on each other, directly or around a loop, and
/// the root namespace (Diagnostics, Finding) depends on none. Read from the sources: a folder
/// depends on another when one of its files names it (a using, or a qualified name); a type of
/// another folder cannot be named any other way.
/// </summary>
public sealed class LayerTests
{
    private static Dictionary<string, HashSet<string>> Dependencies()
    {
        var library = Path.Combine(Paths.RepoRoot, "src", "LibvirtPci");
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(library, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")))
        {
            var text = File.ReadAllText(file);
            var ns = Regex.Match(text, @"^namespace\s+([\w.]+)", RegexOptions.Multiline).Groups[1].Value;
            var deps = graph.TryGetValue(ns, out var d) ? d : graph[ns] = new(StringComparer.Ordinal);
            foreach (Match m in Regex.Matches(text, @"\bLibvirtPci\.(\w+)"))
                if ("LibvirtPci." + m.Groups[1].Value is var other && other != ns && m.Groups[1].Value is not ("Cli" or "Tools" or "Tests"))
                    deps.Add(other);
        }
        return graph;
    }

    [Fact]
    public void No_folder_of_the_library_depends_on_itself_around_a_loop()
    {
        var graph = Dependencies();
        Assert.Contains("LibvirtPci.Rendering", graph.Keys);
        var cycles = new List<string>();
        foreach (var start in graph.Keys)
        {
            // a path from a dependency of start back to start is a loop
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var stack = new Stack<(string Node, string Path)>(graph[start].Select(n => (n, $"{start} -> {n}")));
            while (stack.Count > 0)
            {
                var (node, path) = stack.Pop();
                if (node == start) { cycles.Add(path); break; }
                if (!seen.Add(node)) continue;
                foreach (var next in graph.GetValueOrDefault(node) ?? []) stack.Push((next, $"{path} -> {next}"));
            }
        }
        Assert.True(cycles.Count == 0, "folders in a loop:\n" + string.Join("\n", cycles));
    }

    [Fact]
    public void The_root_namespace_and_the_xml_layer_depend_on_no_other_folder()
    {
        var graph = Dependencies();
        Assert.Empty(graph["LibvirtPci"]);
        Assert.Equal([], graph["LibvirtPci.Xml"].Where(d => d != "LibvirtPci").Order(StringComparer.Ordinal));
    }
}
