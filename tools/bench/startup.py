#!/usr/bin/env python3
"""Start-up of one-file commands, interleaved: every round runs each command once, in a fresh
random order, so that load on a shared 2-core machine falls on all of them alike. Reports each
command's median wall time, its ratio to the first command (the baseline, xmllint), and its
median minor page faults (from wait4's rusage: they do not vary with load, so they show a change
in start-up work that the times blur).

  startup.py RUNS NAME=COMMAND [NAME=COMMAND ...]     (the first is the baseline)
  startup.py --markdown ...                            a Markdown table instead of text
"""
import os, random, shlex, statistics, sys, time

def run_once(argv):
    # posix_spawn (vfork underneath), not fork: a forked Python would count its own copy-on-write
    # faults into the child's rusage
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"startup.py: {shlex.join(argv)} exited {code}")
    return elapsed, usage.ru_minflt + usage.ru_majflt

def main(args):
    markdown = args[:1] == ["--markdown"]
    if markdown: args = args[1:]
    runs, specs = int(args[0]), [a.split("=", 1) for a in args[1:]]
    times = {name: [] for name, _ in specs}
    faults = {name: [] for name, _ in specs}
    commands = [(name, shlex.split(cmd)) for name, cmd in specs]
    for name, argv in commands: run_once(argv)  # warm the page cache
    for _ in range(runs):
        random.shuffle(commands)
        for name, argv in commands:
            t, f = run_once(argv)
            times[name].append(t); faults[name].append(f)
    base = statistics.median(times[specs[0][0]])
    rows = [(name, statistics.median(times[name]) * 1000, statistics.median(times[name]) / base, int(statistics.median(faults[name]))) for name, _ in specs]
    if markdown:
        print(f"| one domain, --check ({runs} interleaved runs each) | median | ratio | page faults |")
        print("|---|---|---|---|")
        for name, ms, ratio, pf in rows: print(f"| {name} | {ms:.2f} ms | {ratio:.2f}× | {pf} |")
    else:
        for name, ms, ratio, pf in rows: print(f"{name:40} {ms:7.2f} ms  {ratio:5.2f}x  {pf:5d} page faults")

if __name__ == "__main__":
    main(sys.argv[1:])
