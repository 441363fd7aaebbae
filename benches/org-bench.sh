#!/usr/bin/env bash
# Org-scan benchmark: `leakhound scan github --org bench --state …` against a
# local GitHub-shaped API (benches/fake_github.py) serving real repositories
# through file:// clone URLs. Measures wall time and peak RSS of
#
#   run 1   fresh clone cache, fresh state store (clones every repository)
#   run 2   nothing changed (git fetch of every mirror; every blob skipped)
#   run 3   one new commit carrying a fake GitHub token pushed to one repo
#   warm    (extra) fresh state store, clone cache already full: the scan
#           cost of run 1 without the cloning
#   fetch   (extra) `git fetch --prune origin` of every mirror, nothing else:
#           the floor under run 2's mirror phase
#
# The source repositories are never written to: each is first copied with
# `git clone --bare --mirror --no-hardlinks` into a private "forge" directory,
# and the API serves, and the new commit is pushed to, those copies. Refs of
# a copy that reach objects its source lacks (snapshots with partial packs)
# are deleted in the copy, so every repository clones (see drop_broken_refs).
#
# usage: benches/org-bench.sh REPO...     bare repositories (a path named
#                                         `repo` takes its parent's name, e.g.
#                                         /work/.mirror/OWNER+NAME/repo; names
#                                         keep [A-Za-z0-9._-], others become _)
#        benches/org-bench.sh DIR         a directory of bare repositories or
#                                         symlinks to them
# env:   LEAKHOUND   binary (default target/release/leakhound; never built here)
#        THREADS     -j for leakhound (default: its own, one per core)
#        CHANGE_REPO name (as above, e.g. pallets_itsdangerous) of the
#                    repository that gets the new commit (default: the
#                    smallest on disk)
#        EXTRA=0     skip the `warm` and `fetch` rows
#        KEEP=1      keep the temporary directory (printed at the end)
#        BENCH_TMP   parent of the temporary directory (default $TMPDIR or /tmp)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
lh=${LEAKHOUND:-$here/target/release/leakhound}
[[ $lh = /* ]] || lh=$PWD/$lh
[[ -x $lh ]] || { echo "org-bench: no leakhound binary at $lh (cargo build --release, or set LEAKHOUND)" >&2; exit 2; }
(($# > 0)) || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

work=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/org-bench.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ ${KEEP:-0} = 1 ]]; then echo "org-bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Snapshots fetched from a store (partial/promisor packs) can lack a few
# objects, almost always under refs/pull/*; `git clone` from such a copy dies
# in pack-objects ("unable to read …"), leakhound then skips that repository
# and, having no mirror, tries the whole clone again on every run. So in the
# *copy*, delete just the refs that reach a missing object, found by bisection
# (`git rev-list --objects --missing=print`; refs/pull/* is searched against
# the other refs, which must be whole).
drop_broken_refs() {
  python3 - "$1" <<'PY'
import subprocess, sys
repo = sys.argv[1]
def git(*args, stdin=None):
    return subprocess.run(["git", "-C", repo, *args], input=stdin, capture_output=True, text=True, errors="surrogateescape").stdout
def missing(refs, exclude=()):
    revs = "\n".join(list(refs) + (["--not", *exclude] if exclude else [])) + "\n"
    out = git("rev-list", "--objects", "--no-object-names", "--missing=print", "--stdin", stdin=revs)
    return [l[1:] for l in out.splitlines() if l.startswith("?")]
refs = git("for-each-ref", "--format=%(refname)").split()
gone = missing(["--all"]) if refs else []
if not gone:
    sys.exit(0)
pulls = [r for r in refs if r.startswith("refs/pull/")]
base = [r for r in refs if not r.startswith("refs/pull/")]
def bisect(rs, exclude):
    if not missing(rs, exclude):
        return []
    if len(rs) == 1:
        return rs
    h = len(rs) // 2
    return bisect(rs[:h], exclude) + bisect(rs[h:], exclude)
bad = bisect(base, []) if base else []
bad += bisect(pulls, [r for r in base if r not in bad])
git("update-ref", "--stdin", stdin="".join(f"delete {r}\n" for r in bad))
if missing(["--all"]):
    sys.exit(f"org-bench: {repo} still lacks objects after dropping {len(bad)} refs; leave it out")
print(f"org-bench: {repo.rsplit('/', 1)[-1]}: {len(gone)} objects missing in the source; "
      f"dropped {len(bad)} of {len(refs)} refs reaching them (in the copy): {' '.join(bad[:4])}{' …' if len(bad) > 4 else ''}",
      file=sys.stderr)
PY
}

# --- sources -> names --------------------------------------------------------
sources=()
if (($# == 1)) && [[ -d $1 ]] && ! git -C "$1" rev-parse --is-bare-repository >/dev/null 2>&1; then
  for e in "$1"/*; do sources+=("$e"); done
else
  sources=("$@")
fi
forge=$work/forge
mkdir -p "$forge"
echo "org-bench: copying ${#sources[@]} repositories into $forge (the originals are only read)" >&2
copy_started=$(date +%s.%N)
for src in "${sources[@]}"; do
  real=$(cd "$src" && pwd -P)
  [[ $(git -C "$real" rev-parse --is-bare-repository 2>/dev/null) = true ]] || { echo "org-bench: $src is not a bare repository" >&2; exit 2; }
  name=$(basename "$real")
  [[ $name = repo ]] && name=$(basename "$(dirname "$real")")
  name=${name%.git}
  name=${name//[^A-Za-z0-9._-]/_}
  [[ -e $forge/$name.git ]] && { echo "org-bench: two repositories named $name" >&2; exit 2; }
  git clone --bare --mirror --no-hardlinks --quiet -- "$real" "$forge/$name.git"
  drop_broken_refs "$forge/$name.git"
done
copy_s=$(python3 -c "import sys,time; print(f'{time.time()-float(sys.argv[1]):.1f}')" "$copy_started")

# --- API ----------------------------------------------------------------------
python3 "$here/benches/fake_github.py" "$forge" --org bench --per-page 10 \
  --port-file "$work/port" >/dev/null 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
[[ -s $work/port ]] || { echo "org-bench: the fake API did not start:" >&2; cat "$work/server.log" >&2; exit 2; }
api=http://127.0.0.1:$(cat "$work/port")
export GITHUB_TOKEN=bench-fake-token   # the fake API ignores it; git never sees it (file://)

clones=$work/clones
state=$work/state.db
rows=()

# measure LABEL CMD...: runs CMD, records wall seconds, the peak RSS of the
# whole process tree (max over leakhound and its git children, like
# /usr/bin/time -v "Maximum resident set size") and leakhound's own peak
# (VmHWM sampled every 50 ms), into $work/LABEL.{stderr,stdout,m}.
measure() {
  local label=$1; shift
  python3 - "$work/$label" "$@" <<'PY'
import os, subprocess, sys, time
base, cmd = sys.argv[1], sys.argv[2:]
with open(base + ".stdout", "wb") as out, open(base + ".stderr", "wb") as err:
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=out, stderr=err)
    hwm = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.05)
    wall = time.monotonic() - t0
code = os.waitstatus_to_exitcode(status)
with open(base + ".m", "w") as f:
    f.write(f"{wall:.2f} {ru.ru_maxrss / 1024:.1f} {hwm / 1024:.1f} {code}\n")
PY
}

scan() {  # scan LABEL [--clone-dir DIR]: one org scan
  local label=$1 dir=${2:-$clones}
  measure "$label" "$lh" scan github --org bench --api-url "$api" --clone-dir "$dir" \
    --state "$state" -f json -o "$work/$label.json" ${THREADS:+-j "$THREADS"} --no-progress
  read -r wall rss own code <"$work/$label.m"
  if ((code > 1)); then
    echo "org-bench: $label failed (exit $code):" >&2; cat "$work/$label.stderr" >&2; exit 1
  fi
  local line scan_ms
  line=$(grep -o 'run [0-9]*:.*' "$work/$label.stderr" | tail -n 1 || true)
  scan_ms=$(sed -n 's/^leakhound: .* blobs (.*) in \([0-9]*\) ms;.*/\1/p' "$work/$label.stderr" | tail -n 1)
  rows+=("$label|$wall|$rss|$own|${scan_ms:-?}|$line")
  echo "org-bench: $label ${wall}s" >&2
}

scan run1
scan run2

# --- one new commit in one repository (in the forge copy) ----------------------
if [[ -n ${CHANGE_REPO:-} ]]; then
  change=$CHANGE_REPO
else
  change=$(cd "$forge" && du -s -- *.git | sort -n | head -n 1 | cut -f2)
  change=${change%.git}
fi
[[ -d $forge/$change.git ]] || { echo "org-bench: no repository $change" >&2; exit 2; }
token=ghp_$(python3 -c "import secrets,string; a=string.ascii_letters+string.digits; print(''.join(secrets.choice(a) for _ in range(36)))")
git clone --quiet "$forge/$change.git" "$work/edit"
(
  cd "$work/edit"
  printf 'GITHUB_TOKEN=%s\n' "$token" >bench-leak.env
  git add bench-leak.env
  git -c user.name=bench -c user.email=bench@example.invalid commit --quiet -m "bench: add a fake token"
  git push --quiet origin HEAD
)
scan run3

if [[ ${EXTRA:-1} != 0 ]]; then
  # Fresh state, full cache: run 1's scan without its cloning.
  rm -f "$state" "$state"-wal "$state"-shm
  scan warm
  # Bare `git fetch` of every mirror: what run 2's mirror phase cannot beat.
  measure fetch bash -c 'for m in "$1"/*/bench/*.git; do git --git-dir "$m" fetch --prune --quiet origin; done' _ "$clones"
  read -r wall rss own code <"$work/fetch.m"
  n=$(ls -d "$clones"/*/bench/*.git | wc -l)
  rows+=("fetch|$wall|$rss|-|-|git fetch --prune of $n mirrors, nothing else")
fi

# --- report ---------------------------------------------------------------------
repos=$(ls -d "$forge"/*.git | wc -l)
blobs=$(grep -o 'run 1: .*' "$work/run1.stderr" | sed -n 's/.* \([0-9]*\) blobs scanned.*/\1/p')
echo
echo "leakhound: $("$lh" --version 2>/dev/null || echo "$lh")"
echo "org: $repos repositories, $blobs blobs in run 1; new commit in $change; forge setup took ${copy_s}s; threads: ${THREADS:-default} on $(nproc) cores"
printf '%-6s %9s %10s %10s %9s %9s  %s\n' run wall_s rss_mb lh_rss_mb scan_s mirror_s summary
r1=
for row in "${rows[@]}"; do
  IFS='|' read -r label wall rss own scan_ms line <<<"$row"
  if [[ $scan_ms =~ ^[0-9]+$ ]]; then
    scan_s=$(python3 -c "print(f'{$scan_ms/1000:.2f}')")
    mirror_s=$(python3 -c "print(f'{$wall-$scan_ms/1000:.2f}')")
  else
    scan_s=-; mirror_s=-
  fi
  printf '%-6s %9s %10s %10s %9s %9s  %s\n' "$label" "$wall" "$rss" "$own" "$scan_s" "$mirror_s" "$line"
  [[ $label = run1 ]] && r1=$wall
done
for row in "${rows[@]}"; do
  IFS='|' read -r label wall _ <<<"$row"
  [[ $label = run2 || $label = run3 || $label = warm ]] &&
    python3 -c "import sys; l,w,r=sys.argv[1:]; print(f'{l}/run1 = {float(w)/float(r)*100:.1f}%')" "$label" "$wall" "$r1"
done
echo "(rss_mb: peak of the process tree, git children included; lh_rss_mb: leakhound's own VmHWM;"
echo " scan_s: the scan of the mirrors as leakhound reports it; mirror_s = wall - scan_s: API listing, clone/fetch, store open, report)"
for label in run1 run2 run3; do
  sed -n 's/^leakhound: history: /  '"$label"' history: /p' "$work/$label.stderr"
done
