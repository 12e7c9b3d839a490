
namespace LibvirtPci.Cli;

/// <summary>
/// `libvirt-pci hook install|uninstall`: a Git pre-commit hook that checks the *staged*
/// content of every staged *.xml (domain files only), prints the diff and the fixing command
/// and fails the commit; with --fix it rewrites the staged blob and re-stages it instead.
/// </summary>
internal static class HookCommand
{
    public const string Marker = "# libvirt-pci pre-commit hook";

    public static int Install(CommandContext ctx, bool fix, bool force, string? command)
    {
        var hooks = HooksDirectory(ctx);
        if (hooks is null) return ExitCode.InvalidInput;
        var path = Path.Combine(hooks, "pre-commit");
        if (File.Exists(path) && !File.ReadAllText(path).Contains(Marker, StringComparison.Ordinal) && !force)
        {
            ctx.Err.WriteLine($"{path}: error LP120: a pre-commit hook that is not libvirt-pci's is installed; not overwritten (use --force to replace it)");
            return ExitCode.InvalidInput;
        }
        Directory.CreateDirectory(hooks);
        var recorded = command ?? DefaultCommand();
        File.WriteAllText(path, Script(fix, recorded));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        ctx.Err.WriteLine($"libvirt-pci: installed {path} ({(fix ? "fixes and re-stages" : "checks")} staged domain XML); it runs {recorded}, " +
            "or, when that is gone, libvirt-pci on PATH, then ~/.dotnet/tools/libvirt-pci (the dotnet tool shim); LIBVIRT_PCI=PATH overrides");
        return ExitCode.Ok;
    }

    public static int Uninstall(CommandContext ctx)
    {
        var hooks = HooksDirectory(ctx);
        if (hooks is null) return ExitCode.InvalidInput;
        var path = Path.Combine(hooks, "pre-commit");
        if (!File.Exists(path))
        {
            ctx.Err.WriteLine("libvirt-pci: no pre-commit hook installed");
            return ExitCode.Ok;
        }
        if (!File.ReadAllText(path).Contains(Marker, StringComparison.Ordinal))
        {
            ctx.Err.WriteLine($"{path}: error LP120: this pre-commit hook is not libvirt-pci's; left alone");
            return ExitCode.InvalidInput;
        }
        File.Delete(path);
        ctx.Err.WriteLine($"libvirt-pci: removed {path}");
        return ExitCode.Ok;
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

    private static string Script(bool fix, string command) => $$"""
#!/usr/bin/env bash
{{Marker}} (installed by `libvirt-pci hook install`; remove with `libvirt-pci hook uninstall`).
# Checks the staged content of every staged *.xml whose root is <domain>.
set -u
# The libvirt-pci that installed the hook; when it has moved or gone: libvirt-pci on PATH, then
# the dotnet tool shim. LIBVIRT_PCI overrides them all.
recorded={{ShellQuote(command)}}
if [ -n "${LIBVIRT_PCI:-}" ]; then :
elif [ -x "$recorded" ] || { [ "${recorded#*/}" = "$recorded" ] && command -v "$recorded" >/dev/null 2>&1; }; then LIBVIRT_PCI=$recorded
elif command -v libvirt-pci >/dev/null 2>&1; then LIBVIRT_PCI=libvirt-pci
elif [ -x "${HOME:-/nonexistent}/.dotnet/tools/libvirt-pci" ]; then LIBVIRT_PCI=$HOME/.dotnet/tools/libvirt-pci
else
  echo "libvirt-pci pre-commit hook: libvirt-pci is not at $recorded, not on PATH and not in ~/.dotnet/tools; install it, or set LIBVIRT_PCI=/path/to/libvirt-pci" >&2
  exit 1
fi
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
}
