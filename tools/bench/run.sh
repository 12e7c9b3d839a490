#!/usr/bin/env bash
# Benchmarks, whole-process and in-process, with ratios against the C tools users already run.
#   tools/bench/run.sh           full run (hyperfine, many runs; a few minutes)
#   tools/bench/run.sh --smoke   tiny sizes, 2 runs: proves the script works (CI)
# Needs: hyperfine, libxml2-utils (xmllint), xmlstarlet, time (GNU /usr/bin/time), python3.
# Writes tools/bench/results.md (full runs only) and prints the same table.
set -euo pipefail
cd "$(dirname "$0")/../.."
smoke=0; [ "${1:-}" = --smoke ] && smoke=1
out=out/bench; mkdir -p "$out"
if [ $smoke = 1 ]; then corpus_n=20; runs=2; warm=0; sizes="500"; else corpus_n=1000; runs=60; warm=5; sizes="500 2000 5000"; fi

echo "== building: NativeAOT binary, dotnet tool, domain generator"
native=$PWD/$(bash tools/publish-native.sh out/native)
rm -rf "$out/tool" "$out/tool-jit"
bash tools/pack-tool.sh "$out/feed" >/dev/null
dotnet tool install LibvirtPci.Tool --tool-path "$out/tool" --add-source "$out/feed" >/dev/null          # what linux-x64 gets: NativeAOT
dotnet tool install LibvirtPci.Tool.any --tool-path "$out/tool-jit" --add-source "$out/feed" >/dev/null  # the fallback elsewhere: JIT
tool=$PWD/$out/tool/libvirt-pci; tooljit=$PWD/$out/tool-jit/libvirt-pci
dotnet build tools/DomainGen -c Release -nologo -v quiet >/dev/null
gen() { dotnet tools/DomainGen/bin/Release/net10.0/DomainGen.dll "$@"; }

echo "== generating (seeded): $corpus_n domains of 5-60 devices, large domains: $sizes"
rm -rf "$out/corpus"; gen corpus "$out/corpus" "$corpus_n" 1
"$native" -i "$out/corpus" 2>/dev/null || true          # addressed: --check then has nothing to do, like a hook on a clean repo
typical=$out/typical.xml; cp "$out/corpus/vm0001.xml" "$typical"
for n in $sizes; do gen big "$out/big$n.xml" "$n" pc; done

hf() { hyperfine -N --style none --warmup "$warm" --runs "$runs" --export-json "$1" "${@:2}" >/dev/null 2>&1 || hyperfine --style none --warmup "$warm" --runs "$runs" --export-json "$1" "${@:2}" >/dev/null; }
echo "== one typical domain, whole process"
hf "$out/one.json" -n native "$native --check $typical" -n "dotnet tool (linux-x64 package: NativeAOT)" "$tool --check $typical" -n "dotnet tool, JIT fallback (any package)" "$tooljit --check $typical" \
  -n "xmllint --noout" "xmllint --noout $typical" -n "xmlstarlet ed (no-op)" "xmlstarlet ed -d /domain/nothing $typical"
echo "== start-up against earlier releases: interleaved rounds, medians of time and page faults"
# The releases to compare with: the previous one (0.2.0) and wave 1's, each built once from its
# own commit (tools/bench/previous.sh) and cached. The smoke run compares with xmllint only.
startup=("xmllint --noout=xmllint --noout $typical" "this tree=$native --check $typical")
if [ $smoke = 0 ]; then
  # Where the page faults go: any NativeAOT program built as ours (it reads the file and exits),
  # then this tree's --version (runtime, every static base, McMaster and the command's options;
  # no file), then the whole --check.
  # shellcheck disable=SC2046
  dotnet publish tools/bench/Floor -c Release -r linux-x64 $(bash tools/native-link-args.sh) -o "$out/floor" -nologo -v quiet >/dev/null
  startup+=("NativeAOT floor (tools/bench/Floor)=$PWD/$out/floor/Floor $typical" "this tree, --version (no file)=$native --version")
  for rel in "0.2.0=5b559d6" "wave 1=b05bb18"; do
    startup+=("${rel%%=*} (${rel#*=})=$(bash tools/bench/previous.sh "${rel#*=}") --check $typical")
  done
fi
python3 tools/bench/startup.py --markdown "$([ $smoke = 1 ] && echo 5 || echo 300)" "${startup[@]}" > "$out/startup.md"
echo "== $corpus_n-domain batch --check"
hf "$out/batch.json" -n "native --check DIR" "$native --check $out/corpus" -n "xmllint --noout FILES" "bash -c 'xmllint --noout $out/corpus/*.xml'"
echo "== assign on large domains, whole process"
args=(); for n in $sizes; do args+=(-n "assign $n devices" "$native $out/big$n.xml"); done
hf "$out/large.json" "${args[@]}"
echo "== peak RSS"
rss=""; for n in $sizes; do kb=$(/usr/bin/time -f %M "$native" "$out/big$n.xml" 2>&1 >/dev/null | tail -1); rss+="$n:$kb "; done
echo "== in process (best of 5 after warm-up)"
dotnet run -c Release --project tools/bench/LibvirtPci.Bench -- quick $sizes > "$out/inprocess.txt"

python3 - "$out" "$smoke" "$rss" <<'PY'
import json, sys, datetime, platform, os, statistics
out, smoke, rss = sys.argv[1], sys.argv[2] == "1", dict(x.split(":") for x in sys.argv[3].split())
def load(name): return {r["command"]: r for r in json.load(open(f"{out}/{name}.json"))["results"]}
one, batch, large = load("one"), load("batch"), load("large")
ms = lambda r: statistics.median(r["times"]) * 1000  # medians: a shared VM has outliers
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
lines = [f"Measured {datetime.date.today()} on {cpu}, {os.cpu_count()} cores ({'smoke run' if smoke else 'full run'}); hyperfine medians.", "",
         "| what | median | ratio | goal |", "|---|---|---|---|"]
x = ms(one["xmllint --noout"])
for name, goal in [("native", "≤ 1.5× xmllint"), ("dotnet tool (linux-x64 package: NativeAOT)", "≤ 10× xmllint"), ("dotnet tool, JIT fallback (any package)", "≤ 10× xmllint (JIT)"), ("xmllint --noout", ""), ("xmlstarlet ed (no-op)", "")]:
    lines.append(f"| one domain: {name} | {ms(one[name]):.1f} ms | {ms(one[name]) / x:.2f}× xmllint | {goal} |")
b = ms(batch["xmllint --noout FILES"])
lines.append(f"| batch: native --check DIR | {ms(batch['native --check DIR']):.1f} ms | {ms(batch['native --check DIR']) / b:.2f}× xmllint | ≤ 2× |")
lines.append(f"| batch: xmllint --noout FILES | {b:.1f} ms | 1× | |")
for cmd, r in large.items():
    n = cmd.split()[1]
    lines.append(f"| {cmd}, whole process | {ms(r):.1f} ms | peak RSS {int(rss[n]) / 1024:.0f} MB | ≤ 100 MB at 5,000 |")
lines += ["", "Start-up (`tools/bench/startup.py`: each round runs every binary once, in random order; minor page faults from wait4):", "", *open(f"{out}/startup.md").read().strip().splitlines()]
inproc = open(f"{out}/inprocess.txt").read().strip().splitlines()
lines += ["", "In process (`dotnet run -c Release --project tools/bench/LibvirtPci.Bench -- quick`; goal: 5,000 devices < 0.5 s, time(5000)/time(500) ≤ 12):", "", "```", *inproc, "```"]
text = "\n".join(lines)
print(text)
if not smoke:
    open("tools/bench/results.md", "w").write("# Latest benchmark results\n\n" + text + "\n")
PY
