using McMaster.Extensions.CommandLineUtils;

namespace LibvirtPci.Cli;

/// <summary>
/// `libvirt-pci hook install|uninstall`: a Git pre-commit hook that checks the *staged*
/// content of every staged *.xml (domain files only), prints the diff and the fixing command
/// and fails the commit; with --fix it rewrites the staged blob and re-stages it instead.
/// </summary>
internal static class HookCommand
{
    public static void Define(CommandLineApplication hook, CommandContext ctx)
    {
        hook.AddCommand("install", "Write .git/hooks/pre-commit (staged domain XML missing addresses fails the commit with the diff and the fixing command) and commit-msg (hook guard).", cmd =>
        {
            var fix = cmd.Flag("--fix", "rewrite and re-stage the staged files instead of failing");
            var force = cmd.Flag("--force", "replace pre-commit and commit-msg hooks that are not libvirt-pci's");
            var command = cmd.Valued("--command <PATH>", "the libvirt-pci the hook runs (default: this binary, or libvirt-pci on PATH)");
            cmd.OnExecute(() => Install(ctx, fix.HasValue(), force.HasValue(), command.Value()));
        });
        hook.AddCommand("guard", "The commit-msg check: refuse staged domain XML that moves or renames, in the guest, devices it already had (exit 1; the message's 'Guest-Visible: accepted' trailer or LIBVIRT_PCI_ACCEPT_GUEST_CHANGES=1 lets it through).", cmd =>
        {
            var message = cmd.Files("MESSAGE_FILE", "the commit message file Git passes to commit-msg hooks", many: false);
            cmd.OnExecute(() => Guard(ctx, message.Values.FirstOrDefault()));
        });
        hook.AddCommand("uninstall", "Remove libvirt-pci's pre-commit and commit-msg hooks (a foreign hook is left alone).", cmd =>
            cmd.OnExecute(() => Uninstall(ctx)));
    }

    public const string Marker = "# libvirt-pci pre-commit hook";

    /// <summary>The hooks libvirt-pci writes: pre-commit checks addresses; commit-msg guards what the guest sees (it can read the message's trailers).</summary>
    private static readonly string[] HookNames = ["pre-commit", "commit-msg"];

    public static int Install(CommandContext ctx, bool fix, bool force, string? command)
    {
        var hooks = HooksDirectory(ctx);
        if (hooks is null) return ExitCode.InvalidInput;
        foreach (var name in HookNames)
        {
            var path = Path.Combine(hooks, name);
            if (File.Exists(path) && !File.ReadAllText(path).Contains(Marker, StringComparison.Ordinal) && !force)
            {
                ctx.Err.WriteLine($"{path}: error LP120: a {name} hook that is not libvirt-pci's is installed; not overwritten (use --force to replace it)");
                return ExitCode.InvalidInput;
            }
        }
        Directory.CreateDirectory(hooks);
        var recorded = command ?? DefaultCommand();
        foreach (var name in HookNames)
        {
            var path = Path.Combine(hooks, name);
            File.WriteAllText(path, name == "pre-commit" ? Script(fix, recorded) : GuardScript(recorded));
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        if (fix) StableByDefault(ctx);
        ctx.Err.WriteLine($"libvirt-pci: installed {Path.Combine(hooks, "pre-commit")} ({(fix ? "fixes and re-stages" : "checks")} staged domain XML) and {Path.Combine(hooks, "commit-msg")} " +
            $"(refuses changes to what the guest sees of its devices unless the message carries '{AcceptTrailer}'); they run {recorded}, " +
            "or, when that is gone, libvirt-pci on PATH, then ~/.dotnet/tools/libvirt-pci (the dotnet tool shim); LIBVIRT_PCI=PATH overrides");
        return ExitCode.Ok;
    }

    public static int Uninstall(CommandContext ctx)
    {
        var hooks = HooksDirectory(ctx);
        if (hooks is null) return ExitCode.InvalidInput;
        var code = ExitCode.Ok;
        var removed = 0;
        foreach (var name in HookNames)
        {
            var path = Path.Combine(hooks, name);
            if (!File.Exists(path)) continue;
            if (!File.ReadAllText(path).Contains(Marker, StringComparison.Ordinal))
            {
                ctx.Err.WriteLine($"{path}: error LP120: this {name} hook is not libvirt-pci's; left alone");
                code = ExitCode.InvalidInput;
                continue;
            }
            File.Delete(path);
            removed++;
            ctx.Err.WriteLine($"libvirt-pci: removed {path}");
        }
        if (removed == 0 && code == ExitCode.Ok) ctx.Err.WriteLine("libvirt-pci: no libvirt-pci hook installed");
        return code;
    }

    /// <summary>
    /// A hook that rewrites files must keep addresses stable, or its fixes move devices: without
    /// a .libvirt-pci.json at the repository's top, --fix writes one with {"stable": true} (a
    /// file that exists is the user's choice and is left as it is).
    /// </summary>
    private static void StableByDefault(CommandContext ctx)
    {
        var top = ProcessRunner.Run("git", ["rev-parse", "--show-toplevel"], TimeSpan.FromMinutes(1)).Text.Trim();
        if (top.Length == 0) return;
        var settings = Path.Combine(top, ProjectSettings.FileName);
        if (File.Exists(settings)) return;
        File.WriteAllText(settings, "{ \"stable\": true }\n");
        ctx.Err.WriteLine($"libvirt-pci: wrote {settings} with {{ \"stable\": true }}: the fixes the hook makes record every address in the domain's ledger, so later edits move none (commit it)");
    }

    /// <summary>The commit trailer that accepts guest-visible changes (git commit --trailer 'Guest-Visible: accepted').</summary>
    public const string AcceptTrailer = "Guest-Visible: accepted";

    /// <summary>The environment variable that accepts them for one commit.</summary>
    public const string AcceptVariable = "LIBVIRT_PCI_ACCEPT_GUEST_CHANGES";

    /// <summary>
    /// `hook guard [MESSAGE_FILE]` (the commit-msg hook; the pre-commit framework's commit-msg
    /// stage): every staged domain XML that HEAD has too is compared as the guest sees it
    /// (GuestDiff, HEAD against the index); a device that stays but moves or is renamed in the
    /// guest fails the commit with the table, unless the message carries the trailer or the
    /// environment says so. Exit 0 or 1; files that do not parse are pre-commit's to report.
    /// </summary>
    public static int Guard(CommandContext ctx, string? messageFile)
    {
        if (Environment.GetEnvironmentVariable(AcceptVariable) is "1" or "yes" or "true") return ExitCode.Ok;
        if (messageFile is not null && File.Exists(messageFile) && HasAcceptTrailer(File.ReadAllText(messageFile))) return ExitCode.Ok;
        var staged = ProcessRunner.Run("git", ["diff", "--cached", "--name-only", "--diff-filter=M", "-z", "--", "*.xml"], TimeSpan.FromMinutes(1));
        if (!staged.Started || staged.ExitCode != 0)
        {
            ctx.Err.WriteLine("libvirt-pci: error LP121: not inside a Git repository (or git is not installed)");
            return ExitCode.InvalidInput;
        }
        var refused = new List<string>();
        foreach (var file in staged.Text.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            if (Show("HEAD:" + file) is not { } before || Show(":" + file) is not { } after) continue;
            if (DiffCommand.Compare(file, before, after) is not { HasIdentityChanges: true } diff) continue;
            ctx.Err.Write(DiffCommand.Table("HEAD:" + file, "staged", diff));
            refused.Add(file);
        }
        if (refused.Count == 0) return ExitCode.Ok;
        ctx.Err.WriteLine($"libvirt-pci: commit refused: devices the guest already has would move or be renamed in {string.Join(", ", refused)}.");
        ctx.Err.WriteLine("libvirt-pci: to keep them where the guest knows them, make the change on the committed file with its addresses kept: " +
            "libvirt-pci -i --stable FILE records every address in the domain's ledger first ({\"stable\": true} in .libvirt-pci.json makes that the repository's default).");
        ctx.Err.WriteLine($"libvirt-pci: to accept the change: git commit --trailer '{AcceptTrailer}' (or {AcceptVariable}=1 git commit).");
        return ExitCode.ChangesNeeded;
    }

    internal static bool HasAcceptTrailer(string message) =>
        message.Split('\n').Any(line => line.StartsWith("Guest-Visible:", StringComparison.OrdinalIgnoreCase)
            && line["Guest-Visible:".Length..].Trim().Equals("accepted", StringComparison.OrdinalIgnoreCase));

    private static byte[]? Show(string objectName)
    {
        using var bytes = new MemoryStream();
        var r = ProcessRunner.Run("git", ["show", objectName], TimeSpan.FromMinutes(1), stdoutTo: bytes);
        return r.ExitCode == 0 ? bytes.ToArray() : null;
    }

    /// <summary>
    /// The running binary when it is libvirt-pci itself (apphost or NativeAOT), else the one on
    /// PATH. An installed dotnet tool runs from a versioned folder under the tool path's .store
    /// (a symlink resolves there); the hook names the tool path's own entry instead, which
    /// survives `dotnet tool update`.
    /// </summary>
    internal static string DefaultCommand(string? self)
    {
        if (self is null || Path.GetFileName(self) != "libvirt-pci") return "libvirt-pci";
        int store = self.IndexOf("/.store/", StringComparison.Ordinal);
        if (store >= 0 && Path.Combine(self[..store], "libvirt-pci") is var entry && File.Exists(entry)) return entry;
        return self;
    }

    private static string DefaultCommand() => DefaultCommand(Environment.ProcessPath);

    private static string? HooksDirectory(CommandContext ctx)
    {
        var git = ProcessRunner.Run("git", ["rev-parse", "--git-path", "hooks"], TimeSpan.FromMinutes(1));
        var output = git.Text.Trim();
        if (git.ExitCode == 0 && output.Length > 0) return Path.GetFullPath(output);
        ctx.Err.WriteLine("libvirt-pci: error LP121: not inside a Git repository (or git is not installed)");
        return null;
    }

    private static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    private static string GuardScript(string command) => $$"""
#!/usr/bin/env bash
{{Marker}} (installed by `libvirt-pci hook install`; remove with `libvirt-pci hook uninstall`).
# commit-msg: refuses a commit that moves or renames, in the guest, devices a staged domain XML
# already had (unless the message carries '{{AcceptTrailer}}').
set -u
{{FindTool(command)}}
exec "$LIBVIRT_PCI" hook guard "$1"

""";

    private static string Script(bool fix, string command) => $$"""
#!/usr/bin/env bash
{{Marker}} (installed by `libvirt-pci hook install`; remove with `libvirt-pci hook uninstall`).
# Checks the staged content of every staged *.xml whose root is <domain>.
set -u
{{FindTool(command)}}
mode={{(fix ? "fix" : "check")}}
fail=0
failed=()
while IFS= read -r -d '' f; do
  staged=$(mktemp) || exit 1
  out=$(mktemp) || exit 1
  git show ":$f" > "$staged"
  if [ "$mode" = fix ]; then
    if "$LIBVIRT_PCI" --skip-non-domain --stdin-filename "$f" - < "$staged" > "$out"; then
      if ! cmp -s "$staged" "$out"; then
        blob=$(git hash-object -w "$out")
        filemode=$(git ls-files -s -- "$f" | cut -d' ' -f1)
        git update-index --cacheinfo "$filemode,$blob,$f"
        # Keep the work tree in step when it held exactly the staged content.
        if cmp -s "$staged" "$f"; then cat "$out" > "$f"; fi
        echo "libvirt-pci: $f: PCI addresses assigned and re-staged" >&2
      fi
    else
      fail=1; failed+=("$f")
    fi
  else
    if ! "$LIBVIRT_PCI" --check --diff --skip-non-domain --stdin-filename "$f" - < "$staged"; then
      fail=1; failed+=("$f")
    fi
  fi
  rm -f "$staged" "$out"
done < <(git diff --cached --name-only --diff-filter=ACMR -z -- '*.xml')
if [ "$fail" -ne 0 ]; then
  printf -v files ' %q' "${failed[@]}"
  printf -v tool '%q' "$LIBVIRT_PCI"
  echo "libvirt-pci: commit refused. Fix it with:  $tool -i --stable$files && git add$files" >&2
  echo "libvirt-pci: (--stable records every address in the domain's ledger, so later changes move none; {\"stable\": true} in .libvirt-pci.json makes it the repository's default)" >&2
  exit 1
fi
exit 0

""";

    /// <summary>The hooks' shell lines that find libvirt-pci.</summary>
    private static string FindTool(string command) => $$"""
# The libvirt-pci that installed the hook; when it has moved or gone: libvirt-pci on PATH, then
# the dotnet tool shim. LIBVIRT_PCI overrides them all.
recorded={{ShellQuote(command)}}
if [ -n "${LIBVIRT_PCI:-}" ]; then :
elif [ -x "$recorded" ] || { [ "${recorded#*/}" = "$recorded" ] && command -v "$recorded" >/dev/null 2>&1; }; then LIBVIRT_PCI=$recorded
elif command -v libvirt-pci >/dev/null 2>&1; then LIBVIRT_PCI=libvirt-pci
elif [ -x "${HOME:-/nonexistent}/.dotnet/tools/libvirt-pci" ]; then LIBVIRT_PCI=$HOME/.dotnet/tools/libvirt-pci
else
  echo "libvirt-pci hook: libvirt-pci is not at $recorded, not on PATH and not in ~/.dotnet/tools; install it, or set LIBVIRT_PCI=/path/to/libvirt-pci" >&2
  exit 1
fi
""";
}
