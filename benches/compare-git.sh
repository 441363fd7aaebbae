#!/usr/bin/env bash
# Side-by-side full-history scan of one repository by leakhound and, when
# installed (../shared/tools/install-peers.sh), kingfisher, gitleaks and
# betterleaks; plus the physical floor: `git cat-file --batch-all-objects
# --batch`, which inflates every object once.
#
# usage: benches/compare-git.sh REPO [THREADS]      (THREADS defaults to 2)
set -euo pipefail
repo=${1:?usage: benches/compare-git.sh REPO [THREADS]}
threads=${2:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS:-$HOME/.cache/leakhound-peers/bin}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
(cd "$here" && cargo build --release --quiet)
lh="$here/target/release/leakhound"

timed() {  # timed NAME CMD...: prints NAME wall cpu rss_mb
  local name=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$out/$name.time" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || true
  read -r wall user sys rss < <(tail -n 1 "$out/$name.time") || true
  python3 -c "import sys; w,u,s,r=sys.argv[1:]; print(f'{\"$name\":12} {float(w):9.2f} {float(u)+float(s):9.2f} {int(r)/1024:9.1f}', end='')" "$wall" "$user" "$sys" "$rss"
}

count() {  # count TOOL REPORT: prints findings and distinct secrets
  python3 - "$1" "$2" <<'PY'
import json, sys
tool, report = sys.argv[1:]
try:
    d = json.load(open(report))
except Exception:
    print(f" {'?':>9} {'?':>9}"); sys.exit()
if tool == "leakhound":
    n = sum(len(f["locations"]) for f in d["findings"]); s = len(d["findings"])
elif tool == "gitleaks":
    n = len(d); s = len({f.get("Secret") for f in d})
elif tool == "betterleaks":
    fs = d.get("findings", []); n = len(fs); s = len({(f.get("match") or {}).get("value") for f in fs})
else:
    fs = d.get("findings", []); n = len(fs); s = len({f["finding"].get("snippet") for f in fs})
print(f" {n:>9} {s:>9}")
PY
}

echo "repository: $repo ($(du -sh "$repo" | cut -f1)), threads: $threads"
git -C "$repo" cat-file --batch-all-objects --batch >/dev/null 2>&1 || true   # warm the page cache
printf '%-12s %9s %9s %9s %9s %9s\n' tool wall_s cpu_s rss_mb findings secrets
timed cat-file git -C "$repo" cat-file --batch-all-objects --batch; echo
timed leakhound "$lh" scan git "$repo" --threads "$threads" --format json -o "$out/lh.json" -q; count leakhound "$out/lh.json"
python3 -c "import json; g=json.load(open('$out/lh.json'))['scan']; x=g['git']; print(f'  leakhound phases: enumerate {x[\"enumerate_ms\"]} ms, scan {x[\"scan_ms\"]} ms; {x[\"commits\"]} commits, {x[\"unique_blobs\"]} blobs, {g[\"bytes_scanned\"]/1e6:.0f} MB')"
if [ -x "$peers/kingfisher" ]; then
  timed kingfisher "$peers/kingfisher" scan "$repo" --no-validate -j "$threads" -f json -o "$out/kf.json"; count kingfisher "$out/kf.json"
fi
if [ -x "$peers/gitleaks" ]; then
  GOMAXPROCS=$threads timed gitleaks "$peers/gitleaks" git "$repo" --no-banner --exit-code 0 -f json -r "$out/gl.json"; count gitleaks "$out/gl.json"
fi
if [ -x "$peers/betterleaks" ] && [ -z "${SKIP_BETTERLEAKS:-}" ]; then
  GOMAXPROCS=$threads timed betterleaks "$peers/betterleaks" git "$repo" --no-banner --exit-code 0 -o "$out/bl.json"; count betterleaks "$out/bl.json"
fi
