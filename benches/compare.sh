#!/usr/bin/env bash
# Side-by-side scan of one directory tree by leakhound and, when installed
# (../shared/tools/install-peers.sh), gitleaks, betterleaks and kingfisher.
#
# usage: benches/compare.sh DIR [THREADS]      (THREADS defaults to 2)
#
# Prints wall time, CPU time (user+sys), peak RSS, findings (locations) and
# distinct secrets per tool. Each tool runs once after one warm-up run of
# leakhound (so every tool reads from a warm page cache). Nothing is sent to
# the network: kingfisher runs with --no-validate.
set -euo pipefail
dir=${1:?usage: benches/compare.sh DIR [THREADS]}
threads=${2:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS:-$HOME/.cache/leakhound-peers/bin}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

(cd "$here" && cargo build --release --quiet)
lh="$here/target/release/leakhound"

# run NAME REPORT CMD...: times CMD with GNU time, then counts its report.
run() {
  local name=$1 report=$2; shift 2
  /usr/bin/time -f '%e %U %S %M' -o "$out/$name.time" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || true
  python3 - "$name" "$report" "$out/$name.time" <<'PY'
import json, sys
name, report, timing = sys.argv[1:]
wall, user, sys_, rss = open(timing).read().split()[-4:]
def load(p):
    try:
        return json.load(open(p))
    except Exception:
        return None
d = load(report)
locs, secrets = "?", "?"
if name == "leakhound" and d:
    locs = sum(len(f["locations"]) for f in d["findings"]); secrets = len(d["findings"])
elif name == "gitleaks" and d is not None:
    locs = len(d); secrets = len({f.get("Secret") for f in d})
elif name == "betterleaks" and d:
    fs = d.get("findings", [])
    locs = len(fs); secrets = len({(f.get("match") or {}).get("value") or (f.get("match") or {}).get("full") for f in fs})
elif name == "kingfisher" and d:
    fs = d.get("findings", [])
    locs = len(fs); secrets = len({f["finding"].get("snippet") for f in fs})
print(f"{name:12} {float(wall):9.2f} {float(user)+float(sys_):9.2f} {int(rss)/1024:9.1f} {locs:>9} {secrets:>9}")
PY
}

echo "corpus: $dir ($(du -sh "$dir" | cut -f1), $(find "$dir" -type f | wc -l) files), threads: $threads"
"$lh" scan "$dir" --threads "$threads" --format json -o /dev/null -q || true   # warm the page cache
printf '%-12s %9s %9s %9s %9s %9s\n' tool wall_s cpu_s rss_mb findings secrets
run leakhound "$out/leakhound.json" "$lh" scan "$dir" --threads "$threads" --format json -o "$out/leakhound.json" -q
if [ -x "$peers/kingfisher" ]; then
  run kingfisher "$out/kingfisher.json" "$peers/kingfisher" scan "$dir" --git-history none --no-validate -j "$threads" -f json -o "$out/kingfisher.json"
fi
if [ -x "$peers/gitleaks" ]; then
  GOMAXPROCS=$threads run gitleaks "$out/gitleaks.json" "$peers/gitleaks" dir "$dir" --no-banner --exit-code 0 -f json -r "$out/gitleaks.json"
fi
if [ -x "$peers/betterleaks" ]; then
  GOMAXPROCS=$threads run betterleaks "$out/betterleaks.json" "$peers/betterleaks" "$dir" --no-banner --exit-code 0 -o "$out/betterleaks.json"
fi
