using System.Text;
using System.Text.RegularExpressions;
using LibvirtPci.Tests.Support;
using LibvirtPci.Tests.Workflows;

namespace LibvirtPci.Tests.Cli;

/// <summary>
/// The manual page and the completions are made from the command definitions: they cannot list an
/// option --help does not, or miss one; the page's code table is the catalogue; the bash
/// completion, driven as bash drives it, offers commands, options, values and files.
/// </summary>
[Trait("Category", "Cli")]
public sealed class ReferenceTests
{
    private static readonly string[] Commands = ["", "assign", "tree", "lint", "codes", "migrate", "convert", "man", "completion", "hook install", "hook uninstall"];

    private static string Man()
    {
        var r = Support.Cli.Run("man");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r.Stdout;
    }

    /// <summary>The long options --help lists for a command.</summary>
    private static SortedSet<string> HelpOptions(string command)
    {
        var help = Support.Cli.Run([.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);
        Assert.True(help.ExitCode == 0, help.Stderr);
        var options = help.Stdout.Split("\nOptions:\n")[1].Split("\n\n")[0];
        return new(Regex.Matches(options, @"^  (?:-\w, )?(--[\w-]+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value), StringComparer.Ordinal);
    }

    /// <summary>The long options the page lists under a command's section (the default command's under OPTIONS).</summary>
    private static SortedSet<string> ManOptions(string man, string command)
    {
        var heading = command.Length == 0 ? ".SH OPTIONS\n" : $".SH \"{command.ToUpperInvariant()}\"\n";
        var section = man.Split(heading)[1].Split("\n.SH ")[0];
        return new(Regex.Matches(section, @"^\.B (?:\\-\w, )?(\\-\\-[\w\\-]+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value.Replace("\\-", "-")), StringComparer.Ordinal);
    }

    [Fact]
    public void The_man_page_lists_exactly_the_options_help_lists_for_every_command()
    {
        var man = Man();
        foreach (var command in Commands)
            Assert.Equal(HelpOptions(command), ManOptions(man, command));
    }

    [Fact]
    public void The_man_page_code_table_is_the_catalogue_and_it_renders_without_warnings()
    {
        var man = Man();
        var codes = Regex.Matches(man, @"^\.B (LP\d{3})$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(global::LibvirtPci.Diagnostics.All.Select(d => d.Code), codes);
        foreach (var d in global::LibvirtPci.Diagnostics.All.Where(d => d.Evidence is not null))
            Assert.Contains(global::LibvirtPci.Cli.Reference.Escape(d.Evidence!), man);
        Require.Available(File.Exists("/usr/bin/man") ? null : "man-db is not installed");
        using var dir = new TempDir();
        var page = dir.File("libvirt-pci.1", Encoding.UTF8.GetBytes(man));
        var rendered = Proc.Run("man", ["--warnings", "-l", page], dir.Path, new Dictionary<string, string?> { ["MANWIDTH"] = "100", ["MAN_KEEP_FORMATTING"] = null });
        Assert.True(rendered.Code == 0, rendered.Err);
        Assert.Equal("", rendered.Err);
        Assert.Contains("libvirt-pci - libvirt-compatible, stable PCI addresses for libvirt domain XML", rendered.Out);
        Assert.Contains("--ovmf-version YYYY.MM", rendered.Out);
    }

    [Fact]
    public void Bash_completion_offers_commands_options_values_files_and_virsh_domains()
    {
        using var dir = new TempDir();
        var script = dir.File("libvirt-pci.bash", Support.Cli.Run("completion", "bash").StdoutBytes);
        dir.File("vm1.xml", []);
        dir.File("vm2.xml", []);
        var virsh = dir.File("bin/virsh", "#!/bin/sh\n[ \"$1 $2 $3\" = 'list --all --name' ] && printf 'web\\nwin10\\ndb\\n'\n"u8.ToArray());
        File.SetUnixFileMode(virsh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var env = new Dictionary<string, string?> { ["PATH"] = Path.Combine(dir.Path, "bin") + ":/usr/bin:/bin" };
        string Complete(params string[] words) => BashCompletion.Complete(line => Proc.Run("sh", ["-c", line], dir.Path, env), script, ["libvirt-pci", .. words]);

        Assert.Equal("codes completion convert", Complete("co"));
        Assert.Equal("vm1.xml vm2.xml", Complete("vm"));
        Assert.Equal("", Complete("assign", "c"));           // after a command: its files, no other command
        Assert.Equal("bin libvirt-pci.bash vm1.xml vm2.xml", Complete("assign", "--check", ""));
        Assert.Equal("--check", Complete("--c"));
        Assert.Equal("--diff", Complete("--check", "--d"));
        Assert.Contains("12.9", Complete("--libvirt-version", ""));
        Assert.Contains("7.0", Complete("lint", "--libvirt-version", ""));
        Assert.Equal("2020.11 2022.11 2025.02", Complete("lint", "--ovmf-version", ""));
        Assert.Equal("per-port", Complete("--io-reserve", "p"));
        Assert.Equal("svg", Complete("tree", "--format", "s"));
        Assert.Equal("guard install uninstall", Complete("hook", ""));
        Assert.Equal("bash zsh", Complete("completion", ""));
        Assert.Equal("web win10", Complete("migrate", "w"));
        Assert.Equal("--spare-ports", Complete("convert", "--sp"));
        Assert.Equal("", Complete("--spare-ports", ""));
    }

    [Fact]
    public void Zsh_completion_is_valid_zsh_with_every_command()
    {
        var zsh = Support.Cli.Run("completion", "zsh").Stdout;
        foreach (var command in Commands.Where(c => c.Length > 0 && !c.Contains(' '))) Assert.Contains($"    '{command}:", zsh);
        Assert.Contains("'1:command:(install guard uninstall)'", zsh);
        Require.Available(File.Exists("/usr/bin/zsh") ? null : "zsh is not installed (apt-get install zsh)");
        using var dir = new TempDir();
        var check = Proc.Run("zsh", ["-n", dir.File("_libvirt-pci", Encoding.UTF8.GetBytes(zsh))]);
        Assert.True(check.Code == 0, check.Err);
    }

    [Fact]
    public void An_unknown_shell_is_a_usage_error()
    {
        var r = Support.Cli.Run("completion", "fish");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("error LP001: completion takes bash or zsh, not 'fish'", r.Stderr);
    }
}
