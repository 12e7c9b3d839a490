using CsCheck;
using LibvirtPci.Cli;

namespace LibvirtPci.Tests.Cli;

/// <summary>The hand-written argument parser: the conventions --help promises, and its usage errors.</summary>
public sealed class CommandLineTests
{
    private sealed class Probe
    {
        public readonly CliCommand Root;
        public readonly CliOption Check, Ledger, Force;
        public readonly CliArguments Files, HookArgs;
        public string Ran = "";

        public Probe()
        {
            Root = new CliCommand("tool", "root") { Title = "tool: a probe", Version = "9.9", ExtendedHelp = "\nMore words.\n" };
            Files = Root.Argument("FILE", "files");
            Check = Root.Option("--check", "check only");
            Ledger = Root.Option("-l|--ledger <PATH>", "a ledger file");
            Root.OnExecute(() => { Ran = "root"; return 0; });
            CliOption? force = null;
            CliArguments? hookArgs = null;
            Root.Command("hook", "hooks", hook =>
            {
                hook.Command("install", "install it", install =>
                {
                    force = install.Option("--force", "replace a foreign hook");
                    hookArgs = install.Argument("DIR", "where", many: false);
                    install.OnExecute(() => { Ran = "install"; return 7; });
                });
            });
            Force = force!;
            HookArgs = hookArgs!;
        }

        public int Run(params string[] args) => Root.Execute(args, TextWriter.Null);
    }

    [Fact]
    public void Options_anywhere_values_in_both_spellings_and_dash_is_a_file()
    {
        var p = new Probe();
        Assert.Equal(0, p.Run("a.xml", "--check", "-", "--ledger=x=y", "b.xml"));
        Assert.Equal("root", p.Ran);
        Assert.True(p.Check.IsSet);
        Assert.Equal("x=y", p.Ledger.Value);
        Assert.Equal(["a.xml", "-", "b.xml"], p.Files.Values);

        var q = new Probe();
        q.Run("-l", "--check", "c.xml"); // a value may start with a dash
        Assert.Equal("--check", q.Ledger.Value);
        Assert.False(q.Check.IsSet);
        Assert.Equal(["c.xml"], q.Files.Values);
    }

    [Fact]
    public void Double_dash_ends_options_and_command_names()
    {
        var p = new Probe();
        p.Run("--", "--check", "hook");
        Assert.Equal("root", p.Ran);
        Assert.False(p.Check.IsSet);
        Assert.Equal(["--check", "hook"], p.Files.Values);
    }

    [Fact]
    public void A_command_is_recognised_only_before_the_first_argument()
    {
        var p = new Probe();
        Assert.Equal(7, p.Run("hook", "install", "--force", "/tmp"));
        Assert.Equal("install", p.Ran);
        Assert.True(p.Force.IsSet);
        Assert.Equal(["/tmp"], p.HookArgs.Values);

        var q = new Probe();
        q.Run("vm.xml", "hook");
        Assert.Equal("root", q.Ran);
        Assert.Equal(["vm.xml", "hook"], q.Files.Values);
    }

    [Theory]
    [InlineData("tool has no option '--nope'", "tool", "--nope")]
    [InlineData("option '--ledger' needs a value <PATH>", "tool", "--ledger")]
    [InlineData("option '--check' takes no value", "tool", "--check=yes")]
    [InlineData("tool hook needs a command: install", "tool hook", "hook")]
    [InlineData("tool hook install has no option '--check'", "tool hook install", "hook", "install", "--check")]
    [InlineData("tool hook install takes one DIR", "tool hook install", "hook", "install", "a", "b")]
    [InlineData("tool hook takes no argument 'x'", "tool hook", "hook", "x")]
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
        var help = new StringWriter();
        Assert.Equal(0, p.Root.Execute(["--check", "--help", "--nope"], help));
        Assert.Equal("", p.Ran);
        Assert.StartsWith("tool: a probe 9.9\n\nUsage: tool [options] [FILE...]\n       tool COMMAND [options] ...\n", help.ToString());
        Assert.Contains("\n  -l, --ledger <PATH>  a ledger file\n", help.ToString());
        Assert.Contains("\nCommands:\n  hook                 hooks\n", help.ToString());
        Assert.EndsWith("\nMore words.\n", help.ToString());

        var version = new StringWriter();
        Assert.Equal(0, new Probe().Root.Execute(["--version"], version));
        Assert.Equal("9.9\n", version.ToString());

        var sub = new StringWriter();
        new Probe().Root.Execute(["hook", "install", "-h"], sub);
        Assert.StartsWith("install it\n\nUsage: tool hook install [options] [DIR]\n", sub.ToString());
        Assert.DoesNotContain("--version", sub.ToString());

        var unterminated = new CliCommand("tool", "root") { ExtendedHelp = "\nNo newline at the end." };
        Assert.EndsWith("\nNo newline at the end.\n", unterminated.Help());
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
        var root = new CliCommand("tool", "root");
        root.Option("--long", string.Join(' ', Enumerable.Repeat("word", 40)));
        var lines = root.Help().Split('\n').SkipWhile(l => !l.StartsWith("  --long", StringComparison.Ordinal)).TakeWhile(l => l.Length > 0).ToList();
        Assert.True(lines.Count > 1);
        Assert.All(lines, l => Assert.True(l.Length <= 100, l));
        Assert.All(lines.Skip(1), l => Assert.StartsWith(new string(' ', 14) + "word", l));
    }
}
