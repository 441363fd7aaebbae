#!/usr/bin/env python3
"""A GitHub-shaped REST API serving a directory of bare repositories as one
organisation, for benches/org-bench.sh (Python 3 standard library only).

usage: fake_github.py DIR [--org bench] [--per-page 10] [--port 0]
                      [--port-file FILE]

Every entry of DIR (a bare repository, or a symlink to one) becomes
`ORG/<entry name without .git>` with a `file://` clone URL pointing at the
resolved path. GET /orgs/ORG/repos is paginated PER_PAGE at a time with a
`Link: <…>; rel="next"` header (the client's own per_page is ignored, so
pagination is exercised); GET /repos/ORG/NAME answers one repository.
The directory is re-read on every request. Binds 127.0.0.1 only; with
--port 0 the kernel picks a free port, which is printed on stdout (and
written to --port-file) once the server listens.
"""

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def repos(directory, org):
    out = []
    for entry in sorted(os.listdir(directory)):
        path = os.path.realpath(os.path.join(directory, entry))
        if not os.path.isfile(os.path.join(path, "HEAD")):
            continue
        name = entry[:-4] if entry.endswith(".git") else entry
        out.append({
            "id": len(out) + 1,
            "name": name,
            "full_name": f"{org}/{name}",
            "private": False,
            "clone_url": "file://" + path,
            "fork": False,
            "archived": False,
            "has_wiki": False,
            "default_branch": "main",
        })
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--org", default="bench")
    ap.add_argument("--per-page", type=int, default=10)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    a = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # quiet
            pass

        def reply(self, status, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            u = urlsplit(self.path)
            parts = [p for p in u.path.split("/") if p]
            everything = repos(a.dir, a.org)
            if parts == ["orgs", a.org, "repos"]:
                q = parse_qs(u.query)
                page = max(1, int(q.get("page", ["1"])[0]))
                start = (page - 1) * a.per_page
                items = everything[start:start + a.per_page]
                headers = []
                if start + a.per_page < len(everything):
                    host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_port}"
                    nxt = f"http://{host}/orgs/{a.org}/repos?per_page={a.per_page}&type=all&page={page + 1}"
                    headers.append(("Link", f'<{nxt}>; rel="next"'))
                return self.reply(200, items, headers)
            if len(parts) == 3 and parts[0] == "repos" and parts[1] == a.org:
                for r in everything:
                    if r["name"] == parts[2]:
                        return self.reply(200, r)
            return self.reply(404, {"message": "Not Found"})

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, a.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
