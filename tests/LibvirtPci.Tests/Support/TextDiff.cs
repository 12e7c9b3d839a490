using DiffPlex.Renderer;

namespace LibvirtPci.Tests.Support;

public static class TextDiff
{
    /// <summary>A unified diff (DiffPlex), for readable assertion failures.</summary>
    public static string Unified(string expected, string actual) =>
        UnidiffRenderer.GenerateUnidiff(expected, actual, "expected", "actual", ignoreWhitespace: false, contextLines: 2);
}
