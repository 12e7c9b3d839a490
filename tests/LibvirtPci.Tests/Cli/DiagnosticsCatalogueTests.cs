using System.Text.RegularExpressions;
using LibvirtPci.Tests.Support;

namespace LibvirtPci.Tests.Cli;

/// <summary>
/// One catalogue of codes (src/LibvirtPci/Diagnostics.cs): every code the source emits is in it,
/// none is reported at a severity above its entry, every error that stops a write carries its
/// evidence, and the README's table and `libvirt-pci codes` are the catalogue's.
/// </summary>
[Trait("Category", "Cli")]
public sealed class DiagnosticsCatalogueTests
{
    private static IEnumerable<(string File, string Text)> Sources() =>
        Directory.GetFiles(Path.Combine(Paths.RepoRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith("Diagnostics.cs", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
            .Select(f => (Path.GetFileName(f), File.ReadAllText(f)));

    [Fact]
    public void Every_code_the_source_emits_is_in_the_catalogue_once()
    {
        var used = Sources().SelectMany(s => Regex.Matches(s.Text, @"LP\d{3}").Select(m => m.Value)).ToHashSet();
        Assert.True(used.Count > 60, $"only {used.Count} codes found in src/");
        Assert.DoesNotContain(used, c => Diagnostics.Find(c) is null);
        Assert.Equal(Diagnostics.All.Count, Diagnostics.All.Select(d => d.Code).Distinct().Count());
        Assert.DoesNotContain(Diagnostics.All, d => !used.Contains(d.Code)); // no entry for a code nothing emits
    }

    [Fact]
    public void No_code_is_reported_above_its_severity_and_every_stopping_error_has_evidence()
    {
        foreach (var (file, text) in Sources())
            foreach (Match m in Regex.Matches(text, @"""(LP\d{3})"",\s*Severity\.(\w+)"))
            {
                var entry = Diagnostics.Find(m.Groups[1].Value)!;
                var severity = Enum.Parse<Severity>(m.Groups[2].Value);
                Assert.True(severity <= entry.Severity, $"{file}: {entry.Code} reported as {severity}, catalogued as {entry.Severity}");
            }
        // A finding that stops the write is an error only with evidence: libvirt refuses it, or the guest does not boot.
        Assert.All(Diagnostics.All.Where(d => d.Kind == DiagnosticKind.Finding && d.Severity == Severity.Error),
            d => Assert.False(string.IsNullOrEmpty(d.Evidence), $"{d.Code} stops a write without evidence"));
    }

    [Fact]
    public void The_README_table_and_libvirt_pci_codes_are_the_catalogue()
    {
        var table = Diagnostics.MarkdownTable();
        var readme = File.ReadAllText(Path.Combine(Paths.RepoRoot, "README.md"));
        var section = Regex.Match(readme, @"<!-- codes:begin[^\n]*-->\n(.*?)<!-- codes:end -->", RegexOptions.Singleline);
        Assert.True(section.Success, "README.md has no codes:begin/codes:end section");
        Assert.Equal(table, section.Groups[1].Value);
        var r = Support.Cli.Run("codes");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(table, r.Stdout);
    }
}
