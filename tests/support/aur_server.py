#!/usr/bin/env python3
"""An AUR-compatible server for repoctl's tests: RPC v5 `info` (GET and POST, both URL
styles the real AUR accepts) and git over dumb HTTP, from bare repositories in --root.

Each `<pkgbase>.git` bare repository under --root is one AUR pkgbase; its RPC answers are
read from the .SRCINFO at HEAD on every request, so a test bumps a version by pushing a
commit. `GET /__stats` returns how many RPC requests were answered (for batching checks).

`--synthetic N` adds N in-memory packages `synth-00000`... (version 1.0-1; each depends on
`glibc`, an official package, and every 50th on the synthetic package before it) for planning
at scale; they have no git repository, like names listed by pkgname need none.

Usage: aur_server.py --root DIR [--port 0] [--synthetic N]   (prints "PORT <n>" once listening)
"""
import argparse
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LIST_KEYS = {
    "depends": "Depends",
    "makedepends": "MakeDepends",
    "checkdepends": "CheckDepends",
    "optdepends": "OptDepends",
    "provides": "Provides",
    "conflicts": "Conflicts",
    "replaces": "Replaces",
    "groups": "Groups",
    "license": "License",
}
STATS = {"rpc_requests": 0, "names_asked": 0}
LOCK = threading.Lock()


def parse_srcinfo(text):
    """Returns (pkgbase, base_fields, [(pkgname, fields)]) from .SRCINFO text."""
    base, base_fields, packages, current = None, {}, [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or " = " not in line:
            continue
        key, value = line.split(" = ", 1)
        if key == "pkgbase":
            base, current = value, base_fields
            continue
        if key == "pkgname":
            current = {}
            packages.append((value, current))
            continue
        if current is None:
            continue
        key = key.split("_")[0] if key.split("_")[0] in LIST_KEYS else key
        current.setdefault(key, []).append(value)
    return base, base_fields, packages


def load_packages(root):
    """pkgname -> RPC result dict, for every bare repository under root."""
    found = {}
    for entry in sorted(os.listdir(root)):
        if not entry.endswith(".git"):
            continue
        gitdir = os.path.join(root, entry)
        try:
            text = subprocess.run(
                ["git", "--git-dir", gitdir, "show", "HEAD:.SRCINFO"],
                check=True, capture_output=True, text=True,
            ).stdout
            modified = int(subprocess.run(
                ["git", "--git-dir", gitdir, "log", "-1", "--format=%ct"],
                check=True, capture_output=True, text=True,
            ).stdout.strip() or 0)
        except subprocess.CalledProcessError:
            continue
        base, base_fields, packages = parse_srcinfo(text)
        maintainer_file = os.path.join(gitdir, "maintainer")
        maintainer = open(maintainer_file).read().strip() if os.path.exists(maintainer_file) else "fixture-maintainer"
        for i, (name, fields) in enumerate(packages):
            merged = dict(base_fields)
            merged.update(fields)
            one = lambda k: merged.get(k, [None])[0]
            version = f"{one('pkgver')}-{one('pkgrel')}"
            if one("epoch") and one("epoch") != "0":
                version = f"{one('epoch')}:{version}"
            result = {
                "ID": abs(hash(name)) % 10**6,
                "Name": name,
                "PackageBaseID": abs(hash(base)) % 10**6,
                "PackageBase": base,
                "Version": version,
                "Description": one("pkgdesc"),
                "URL": one("url"),
                "NumVotes": 1,
                "Popularity": 0.5,
                "OutOfDate": None,
                "Maintainer": maintainer,
                "Submitter": maintainer,
                "FirstSubmitted": 1500000000,
                "LastModified": modified,
                "URLPath": f"/cgit/aur.git/snapshot/{base}.tar.gz",
                "Keywords": [],
            }
            for key, rpc_key in LIST_KEYS.items():
                result[rpc_key] = merged.get(key, [])
            found[name] = result
    return found


def synthetic_packages(count):
    found = {}
    for i in range(count):
        name = f"synth-{i:05d}"
        depends = ["glibc"] + ([f"synth-{i - 1:05d}>=1.0"] if i % 50 == 1 else [])
        found[name] = {
            "ID": i, "Name": name, "PackageBaseID": i, "PackageBase": name, "Version": "1.0-1",
            "Description": "synthetic", "URL": None, "NumVotes": 0, "Popularity": 0, "OutOfDate": None,
            "Maintainer": "synth", "Submitter": "synth", "FirstSubmitted": 1500000000,
            "LastModified": 1700000000, "URLPath": f"/cgit/aur.git/snapshot/{name}.tar.gz",
            "Keywords": [], "Depends": depends, "MakeDepends": [], "CheckDepends": [],
            "OptDepends": [], "Provides": [], "Conflicts": [], "Replaces": [], "Groups": [], "License": ["MIT"],
        }
    return found


class Handler(BaseHTTPRequestHandler):
    server_version = "aur-fixture/1"

    def log_message(self, fmt, *args):
        if os.environ.get("AUR_SERVER_VERBOSE"):
            sys.stderr.write("aur_server: " + fmt % args + "\n")

    def send(self, code, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def rpc(self, params):
        names = params.get("arg[]", []) + params.get("arg", [])
        kind = params.get("type", ["info"])[0]
        if kind not in ("info", "multiinfo"):
            return self.send(200, json.dumps({"version": 5, "type": "error", "resultcount": 0,
                                              "results": [], "error": "Incorrect request type specified."}))
        with LOCK:
            STATS["rpc_requests"] += 1
            STATS["names_asked"] += len(names)
        packages = load_packages(self.server.root)
        packages.update(self.server.synthetic)
        results = [packages[n] for n in dict.fromkeys(names) if n in packages]
        self.send(200, json.dumps({"version": 5, "type": "multiinfo",
                                   "resultcount": len(results), "results": results}))

    def do_GET(self):
        url = urlparse(self.path)
        params = parse_qs(url.query)
        if url.path == "/__stats":
            return self.send(200, json.dumps(STATS))
        if url.path in ("/rpc/v5/info", "/rpc/v5/info/"):
            params.setdefault("type", ["info"])
            return self.rpc(params)
        if url.path in ("/rpc", "/rpc/", "/rpc.php"):
            return self.rpc(params)
        self.serve_git(url.path)

    def do_POST(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length", 0))
        params = parse_qs(self.rfile.read(length).decode())
        if url.path in ("/rpc/v5/info", "/rpc/v5/info/"):
            params.setdefault("type", ["info"])
            return self.rpc(params)
        if url.path in ("/rpc", "/rpc/", "/rpc.php"):
            return self.rpc(params)
        self.send(404, "not found", "text/plain")

    def serve_git(self, path):
        parts = path.lstrip("/").split("/", 1)
        if not parts[0].endswith(".git") or ".." in path:
            return self.send(404, "not found", "text/plain")
        full = os.path.realpath(os.path.join(self.server.root, path.lstrip("/")))
        if not full.startswith(os.path.realpath(self.server.root) + os.sep) or not os.path.isfile(full):
            return self.send(404, "not found", "text/plain")
        with open(full, "rb") as f:
            self.send(200, f.read(), "application/octet-stream")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--synthetic", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.root = os.path.abspath(args.root)
    server.synthetic = synthetic_packages(args.synthetic)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
