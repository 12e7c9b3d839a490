using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Architecture;

/// <summary>
/// No method, constructor, operator or accessor in src/ is longer than 60 lines (from its
/// signature to its last brace, comments inside included): a longer one does several things and
/// is split into named steps. Read with Roslyn's parser, so raw strings and lambdas count right.
/// </summary>
public sealed class MethodLengthTests
{
    private const int Limit = 60;

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(Path.Combine(Paths.RepoRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    internal static IEnumerable<(string Where, int Lines)> Members(string path)
    {
        var tree = CSharpSyntaxTree.ParseText(File.ReadAllText(path), path: path);
        foreach (var member in tree.GetRoot().DescendantNodes().Where(n => n is BaseMethodDeclarationSyntax or AccessorDeclarationSyntax))
        {
            var span = member.GetLocation().GetLineSpan();
            var name = member switch
            {
                MethodDeclarationSyntax m => m.Identifier.Text,
                ConstructorDeclarationSyntax c => c.Identifier.Text,
                AccessorDeclarationSyntax a => a.Keyword.Text,
                _ => member.Kind().ToString(),
            };
            yield return ($"{Path.GetRelativePath(Paths.RepoRoot, path)}:{span.StartLinePosition.Line + 1} {name}", span.EndLinePosition.Line - span.StartLinePosition.Line + 1);
        }
    }

    [Fact]
    public void No_method_in_src_is_longer_than_60_lines()
    {
        var all = SourceFiles().SelectMany(Members).ToList();
        Assert.True(all.Count > 500, $"only {all.Count} methods read: the sources were not found");
        var tooLong = all.Where(m => m.Lines > Limit).Select(m => $"{m.Where}: {m.Lines} lines").ToList();
        Assert.True(tooLong.Count == 0, $"methods over {Limit} lines:\n" + string.Join("\n", tooLong));
    }

    [Fact]
    public void The_rule_counts_a_long_method_and_ignores_a_long_class()
    {
        var file = Path.Combine(Path.GetTempPath(), $"lp-length-{Guid.NewGuid():N}.cs");
        var body = string.Join("\n", Enumerable.Range(0, 61).Select(i => $"        int x{i} = {i};"));
        File.WriteAllText(file, $"class A\n{{\n    void Long()\n    {{\n{body}\n    }}\n    void Short() {{ }}\n}}\n");
        try
        {
            var members = Members(file).ToList();
            Assert.Equal(2, members.Count);
            Assert.Equal(64, members.Single(m => m.Where.EndsWith(" Long", StringComparison.Ordinal)).Lines);
            Assert.Equal(1, members.Single(m => m.Where.EndsWith(" Short", StringComparison.Ordinal)).Lines);
        }
        finally { File.Delete(file); }
    }
}
