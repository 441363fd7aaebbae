#!/usr/bin/env bash
# Builds a large synthetic git history, deterministically: a generated source
# tree that evolves over COMMITS commits, with fake secrets planted (and some
# later removed) along the way. Same inputs, same repository, every time.
#
# usage: benches/make-history.sh OUT_DIR [COMMITS] [FILES]   (defaults: 3000 commits, 400 files)
set -euo pipefail
out=${1:?usage: benches/make-history.sh OUT_DIR [COMMITS] [FILES]}
commits=${2:-3000}
files=${3:-400}
rm -rf "$out"
mkdir -p "$out"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git -C "$out" init -q -b main
python3 - "$out" "$commits" "$files" <<'PY'
import os, random, subprocess, sys
out, commits, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(1234)
A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
words = "let const return if else for while match self config buffer len data request response http client server token key value path user password session auth handler error result options".split()
def tok(n): return "".join(r.choice(A) for _ in range(n))
def line():
    k = r.random()
    if k < 0.3: return f"    // {' '.join(r.choice(words) for _ in range(6))}"
    if k < 0.6: return f"    let {r.choice(words)}_{r.choice(words)} = {r.randint(0, 99999)};"
    return f"    {r.choice(words)}.{r.choice(words)}({r.choice(words)}, \"{r.choice(words)}\");"
paths = [f"src/mod{i % 20}/file{i}.rs" for i in range(files)]
content = {p: [line() for _ in range(r.randint(40, 400))] for p in paths}
# fast-import keeps generation to seconds, not minutes
fi = subprocess.Popen(["git", "-C", out, "fast-import", "--quiet"], stdin=subprocess.PIPE)
w = fi.stdin.write
planted = 0
for c in range(commits):
    changed = r.sample(paths, k=min(len(paths), r.randint(1, 6)))
    for p in changed:
        body = content[p]
        for _ in range(r.randint(1, 5)):
            i = r.randrange(len(body))
            body[i] = line()
        if r.random() < 0.01:
            body.insert(r.randrange(len(body)), f'    let token = "ghp_{tok(36)}";')
            planted += 1
    ts = 1700000000 + c * 600
    msg = f"commit {c}\n".encode()
    w(f"commit refs/heads/main\ncommitter Bench <bench@example.org> {ts} +0000\ndata {len(msg)}\n".encode() + msg)
    if c == 0:
        paths_now = paths
    else:
        paths_now = changed
    for p in paths_now:
        data = ("fn main() {\n" + "\n".join(content[p]) + "\n}\n").encode()
        w(f"M 100644 inline {p}\ndata {len(data)}\n".encode() + data + b"\n")
fi.stdin.close()
fi.wait()
print(f"{commits} commits, {files} files, {planted} planted tokens", file=sys.stderr)
PY
git -C "$out" reset -q --hard main
git -C "$out" gc -q
du -sh "$out/.git"
