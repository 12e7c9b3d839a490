using CsCheck;
using LibvirtPci.Cli;
using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Tests.Cli;

/// <summary>
/// The command line on McMaster.Extensions.CommandLineUtils with this tool's conventions: what
/// --help promises, the usage errors in the tool's words (pinned to McMaster 2.3.0's messages), and
/// McMaster's "did you mean".
/// </summary>
public sealed class CommandLineTests
{
    private sealed class Probe
    {
        public readonly CommandLine.Root Root;
        public CommandOption Check = null!, Ledger = null!, Force = null!;
        public Positionals Files = null!, HookArgs = null!;
        public readonly CommandLine.BufferedConsole Console = new();
        public string Ran = "";

        public Probe()
        {
            Root = new CommandLine.Root("tool", "tool: a probe", console =>
            {
                var root = CommandLine.NewCommand(console, "tool", "root", version: "9.9");
                root.ExtendedHelpText = "\nMore words.\n";
                Files = root.Files("FILE", "files");
                Check = root.Flag("--check", "check only");
                Ledger = root.Valued("-l|--ledger <PATH>", "a ledger file");
                root.OnExecute(() => { Ran = "root"; return 0; });
                return root;
            },
            [
                new("hook", "hooks", hook =>
                    hook.AddCommand("install", "install it", install =>
                    {
                        Force = install.Flag("--force", "replace a foreign hook");
                        HookArgs = install.Files("DIR", "where", many: false);
                        install.OnExecute(() => { Ran = "install"; return 7; });
                    })),
            ]);
        }

        public int Run(params string[] args) => CommandLine.Run(Root, args, Console, TextWriter.Null);

        public string Output(params string[] args)
        {
            var output = new StringWriter();
            Assert.Equal(0, CommandLine.Run(Root, args, Console, output));
            return output.ToString();
        }
    }

    [Fact]
    public void Options_anywhere_values_in_both_spellings_and_dash_is_a_file()
    {
        var p = new Probe();
        Assert.Equal(0, p.Run("a.xml", "--check", "-", "--ledger=x=y", "b.xml"));
        Assert.Equal("root", p.Ran);
        Assert.True(p.Check.HasValue());
        Assert.Equal("x=y", p.Ledger.Value());
        Assert.Equal(["a.xml", "-", "b.xml"], p.Files.Values);

        var q = new Probe();
        q.Run("-l", "--check", "c.xml"); // a value may start with a dash
        Assert.Equal("--check", q.Ledger.Value());
        Assert.False(q.Check.HasValue());
        Assert.Equal(["c.xml"], q.Files.Values);
    }

    [Fact]
    public void Double_dash_ends_options_and_command_names()
    {
        var p = new Probe();
        p.Run("--", "--check", "hook");
        Assert.Equal("root", p.Ran);
        Assert.False(p.Check.HasValue());
        Assert.Equal(["--check", "hook"], p.Files.Values);
    }

    [Fact]
    public void A_command_is_recognised_only_as_the_first_argument()
    {
        var p = new Probe();
        Assert.Equal(7, p.Run("hook", "install", "--force", "/tmp"));
        Assert.Equal("install", p.Ran);
        Assert.True(p.Force.HasValue());
        Assert.Equal(["/tmp"], p.HookArgs.Values);

        var q = new Probe();
        q.Run("vm.xml", "hook");
        Assert.Equal("root", q.Ran);
        Assert.Equal(["vm.xml", "hook"], q.Files.Values);

        var r = new Probe();
        r.Run("--check", "hook", "install");
        Assert.Equal("root", r.Ran);
        Assert.Equal(["hook", "install"], r.Files.Values);
    }

    [Theory]
    [InlineData("tool has no option '--nope'", "tool", "--nope")]
    [InlineData("tool has no option '--chek'; did you mean '--check'?", "tool", "--chek")]
    [InlineData("'hok' is neither a command nor a file; did you mean 'hook'?", "tool", "hok")]
    [InlineData("option '--ledger' needs a value <PATH>", "tool", "--ledger")]
    [InlineData("option '--check' takes no value", "tool", "--check=yes")]
    [InlineData("option '--ledger' is given twice ('b')", "tool", "-l", "a", "--ledger", "b")]
    [InlineData("tool hook needs a command: install", "tool hook", "hook")]
    [InlineData("tool hook install has no option '--check'", "tool hook install", "hook", "install", "--check")]
    [InlineData("tool hook install takes one DIR", "tool hook install", "hook", "install", "a", "b")]
    [InlineData("tool hook takes no argument 'x'", "tool hook", "hook", "x")]
    [InlineData("tool hook takes no argument 'instal'; did you mean 'install'?", "tool hook", "hook", "instal")]
    public void Usage_errors_name_the_problem_and_the_command_to_ask(string message, string command, params string[] args)
    {
        var p = new Probe();
        var e = Assert.Throws<UsageException>(() => p.Run(args));
        Assert.Equal(message, e.Message);
        Assert.Equal(command, e.Command);
        Assert.Equal("", p.Ran);
    }

    [Fact]
    public void Help_and_version_print_and_run_nothing()
    {
        var p = new Probe();
        var help = p.Output("--check", "--help", "--nope");
        Assert.Equal("", p.Ran);
        Assert.StartsWith("tool: a probe 9.9\n\nUsage: tool [options] [FILE...]\n       tool COMMAND [options] ...\n", help);
        Assert.Contains("\n  -l, --ledger <PATH>  a ledger file\n", help);
        Assert.Contains("\nCommands:\n  hook                 hooks\n", help);
        Assert.EndsWith("\nMore words.\n", help);

        Assert.Equal("9.9\n", new Probe().Output("--version"));

        var sub = new Probe().Output("hook", "install", "-h");
        Assert.StartsWith("install it\n\nUsage: tool hook install [options] [DIR]\n", sub);
        Assert.DoesNotContain("--version", sub);

        // `help` and `help COMMAND` are --help, not files
        var word = new Probe();
        Assert.Equal(help, word.Output("help"));
        Assert.Equal("", word.Ran);
        Assert.Equal(new Probe().Output("hook", "--help"), new Probe().Output("help", "hook"));
    }

    [Fact]
    public void A_missing_file_is_lp100_and_a_mistyped_command_is_named()
    {
        var missing = Support.Cli.Run("missing.xml");
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal("missing.xml: error LP100: no such file\n", missing.Stderr);
        var typo = Support.Cli.Run("lnit", "vm.xml");
        Assert.Contains("error LP001: 'lnit' is neither a command nor a file; did you mean 'lint'?", typo.Stderr);
    }

    [Fact]
    public void A_usage_error_prints_nothing_on_stdout()
    {
        var p = new Probe();
        var stdout = new StringWriter();
        foreach (var args in new[] { ["--nope"], ["hok"], ["hook", "x"], new[] { "hook", "install", "a", "b" } })
            Assert.Throws<UsageException>(() => CommandLine.Run(p.Root, args, p.Console, stdout));
        Assert.Equal("", stdout.ToString()); // McMaster's own hint ("Specify --help ...") never reaches stdout
    }

    [Fact]
    public void Any_argument_list_runs_one_handler_or_is_a_usage_error()
    {
        string[] words = ["--check", "-l", "--ledger", "--ledger=v", "--check=", "-", "--", "-h", "--version", "hook", "install", "--force", "a.xml", "--nope", "-x", "", "="];
        Gen.Int[0, words.Length - 1].Select(i => words[i]).Array[0, 8].Sample(args =>
        {
            var p = new Probe();
            try
            {
                int code = p.Run(args);
                bool printed = code == 0 && p.Ran == "" && args.Any(a => a is "-h" or "--version");
                Assert.True(printed || p.Ran is "root" or "install", string.Join(' ', args));
                if (p.Ran == "root") Assert.All(p.Files.Values, f => Assert.Contains(f, args));
                if (p.Ran == "root" && args.Length > 0) Assert.NotEqual("hook", args[0]);
                if (p.Ran == "install") Assert.Equal("hook", args[0]); // a command name counts only first
            }
            catch (UsageException)
            {
                Assert.Equal("", p.Ran); // nothing ran
            }
        }, iter: 5000);
    }

    [Fact]
    public void Long_descriptions_wrap_under_their_column()
    {
        var root = CommandLine.NewCommand(new CommandLine.BufferedConsole(), "tool", "root");
        root.Flag("--long", string.Join(' ', Enumerable.Repeat("word", 40)));
        var lines = CommandLine.HelpLayout.Instance.Help(root).Split('\n').SkipWhile(l => !l.StartsWith("  --long", StringComparison.Ordinal)).TakeWhile(l => l.Length > 0).ToList();
        Assert.True(lines.Count > 1);
        Assert.All(lines, l => Assert.True(l.Length <= 100, l));
        Assert.All(lines.Skip(1), l => Assert.StartsWith(new string(' ', 14) + "word", l));
    }

    [Fact]
    public void The_tools_help_lists_every_command_and_its_usage_errors_go_to_stderr()
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        Assert.Equal(0, Commands.Run(["--help"], stdout, stderr));
        var help = System.Text.Encoding.UTF8.GetString(stdout.ToArray());
        foreach (var command in new[] { "assign", "tree", "lint", "migrate", "hook" }) Assert.Contains($"\n  {command} ", help);
        stdout.SetLength(0);
        Assert.Equal(2, Commands.Run(["migrat", "--all"], stdout, stderr));
        Assert.Equal(0, stdout.Length);
        Assert.Equal("libvirt-pci: error LP001: 'migrat' is neither a command nor a file; did you mean 'migrate'? (see libvirt-pci --help)\n", stderr.ToString());
    }

    /// <summary>
    /// Every option value is read by the option that declares it: a value it cannot read is one
    /// LP001 line naming what it takes and the command whose --help explains it, exit 2, nothing
    /// on stdout, whichever command and option. A command's other usage errors name it the same
    /// way (diff's once said "see diff --help", which is GNU diff's).
    /// </summary>
    [Theory]
    [InlineData("--spare-ports=x vm.xml", "--spare-ports takes a number from 0 to 240, not 'x' (see libvirt-pci --help)")]
    [InlineData("assign --io-reserve=maybe vm.xml", "--io-reserve takes off, per-port or remove, not 'maybe' (see libvirt-pci assign --help)")]
    [InlineData("--ovmf-version=soon vm.xml", "--ovmf-version takes an edk2 release such as 2022.11, not 'soon' (see libvirt-pci --help)")]
    [InlineData("lint --ovmf-version=soon vm.xml", "--ovmf-version takes an edk2 release such as 2022.11, not 'soon' (see libvirt-pci lint --help)")]
    [InlineData("tree --format=png vm.xml", "--format takes text, dot, svg or json, not 'png' (see libvirt-pci tree --help)")]
    [InlineData("convert --to=q35 --spare-ports=300 vm.xml", "--spare-ports takes a number from 0 to 240, not '300' (see libvirt-pci convert --help)")]
    [InlineData("migrate --all --virsh-timeout=0", "--virsh-timeout takes seconds from 1 to 86400, not '0' (see libvirt-pci migrate --help)")]
    [InlineData("migrate --io-reserve=on --all", "--io-reserve takes off, per-port or remove, not 'on' (see libvirt-pci migrate --help)")]
    [InlineData("completion fish", "completion takes bash or zsh, not 'fish' (see libvirt-pci completion --help)")]
    [InlineData("convert --to=pc vm.xml", "convert needs --to q35 ('pc' is not a machine it converts to) (see libvirt-pci convert --help)")]
    [InlineData("migrate", "name the domains to migrate, or --all (see libvirt-pci migrate --help)")]
    [InlineData("diff one.xml", "diff takes two files (diff OLD.xml NEW.xml), or revisions and a file (diff REV [REV2] -- FILE) (see libvirt-pci diff --help)")]
    public void A_usage_error_is_one_line_naming_the_command_whose_help_explains_it(string args, string message)
    {
        var r = LibvirtPci.Tests.Support.Cli.Run(args.Split(' '));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal($"libvirt-pci: error LP001: {message}\n", r.Stderr);
    }
}
