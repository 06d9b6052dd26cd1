#!/usr/bin/env python3
"""An AUR-compatible server for repoctl's tests, answering as aurweb does: RPC v5 (`info`,
`search`, `msearch`, `suggest`, `suggest-pkgbase`, over every route aurweb serves), cgit's
`plain` view of a pkgbase's files, and git over dumb HTTP, from bare repositories in --root.

Each `<pkgbase>.git` bare repository under --root is one AUR pkgbase. Its RPC answers are built
from the .SRCINFO at HEAD the way aurweb imports it on push, and re-read whenever HEAD moves, so
a test bumps a version by pushing a commit. Files in the bare repository (not in git) stand for
what aurweb keeps in its database: `maintainer` (its text; empty means orphaned; absent means
"fixture-maintainer"), `comaintainers` and `keywords` (one a line), `submitter`. Deleting a
pkgbase (aurweb's package deletion) is removing its bare repository. `GET /__stats` counts
requests.

LastModified is the committer date of HEAD (aurweb stores the time of the push, which a test
cannot move into the past; scripts/push-fixture.sh commits with FIXTURE_DATE when a test needs
a commit of some age), except for a push the stand-in makes itself: a test arms one by writing
`push-on-fetch` (JSON: `dir`, `date`) in the bare repository, and the next request for the
repository's `info/refs` (a client starting to fetch) first pushes `dir` as a commit dated
`date` with scripts/push-fixture.sh, then answers. That push happens at a time the test cannot
set, so, as aurweb records every push (aurweb/git/update.py sets ModifiedTS before the ref
moves), its time is LastModified from then on (kept in `pushed-at`: COMMIT SECONDS) while it
is HEAD. This is how a test pushes between a client's RPC request and its git fetch.

Where each behaviour comes from (archlinux/aurweb unless said otherwise):
- .SRCINFO import: aurweb/git/update.py save_metadata (alpm-srcinfo's MergedPackage, per
  architecture of the pkgbase) and aurweb/git/update_legacy.py save_metadata (python-srcinfo's
  parse_srcinfo and utils.get_merged_package).
- RPC answers: aurweb/rpc.py RPC (get_json_data, get_info_json_data, subquery, handle,
  _verify_inputs, _handle_search_type); search semantics: aurweb/packages/search.py RPCSearch.
- Routes and argument parsing: aurweb/routers/rpc.py (rpc, rpc_post, rpc_openapi_*,
  parse_args, rpc_request).

`--synthetic N` adds N in-memory pkgbases `synth-00000`... (version 1.0-1, arch x86_64, each
depending on `glibc`, an official package, and every 50th on the synthetic package before it)
for planning at scale. They have no git repository, but a generated .SRCINFO that the cgit
endpoint serves and the RPC answers are built from. Their LastModified starts at 1700000000;
`POST /__touch?count=K` bumps it by one for K of them, spread evenly (synth-00000 and every
N/K-th after it), as a push that changes nothing but the timestamp would, and answers with the
pkgbases touched. A client that keys cached .SRCINFO files by LastModified must fetch exactly
those K again. They have one commit each (the SHA-1 of their .SRCINFO), which cgit's `id`
answers; `GET /__synthetic-lock` gives the repoctl.lock that locks them all.

Usage: aur_server.py --root DIR [--port 0] [--synthetic N]   (prints "PORT <n>" once listening)
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

# aurweb/rpc.py TYPE_MAPPING plus the subquery's literal types: RPC key of each list.
DEPENDENCY_KEYS = {"depends": "Depends", "makedepends": "MakeDepends",
                   "checkdepends": "CheckDepends", "optdepends": "OptDepends"}
RELATION_KEYS = {"conflicts": "Conflicts", "provides": "Provides", "replaces": "Replaces"}
ARCH_KEYS = {**DEPENDENCY_KEYS, **RELATION_KEYS}
# aurweb/rpc.py RPC: what the API accepts.
EXPOSED_TYPES = {"info", "multiinfo", "search", "msearch", "suggest", "suggest-pkgbase"}
EXPOSED_BYS = {"name-desc", "name", "maintainer", "depends", "makedepends", "optdepends",
               "checkdepends", "provides", "conflicts", "replaces", "groups", "submitter",
               "keywords", "comaintainers"}
RPC_SEARCH_BY = "name-desc"  # aurweb/defaults.py
MAX_RPC_RESULTS = 5000  # conf/config.defaults [options] max_rpc_results
SNAPSHOT_URI = "/cgit/aur.git/snapshot/%s.tar.gz"  # conf/config.defaults [options] snapshot_uri
DEFAULT_MAINTAINER = "fixture-maintainer"

STATS = {"rpc_requests": 0, "names_asked": 0, "search_requests": 0, "srcinfo_requests": 0}
LOCK = threading.Lock()


def count(key, n=1):
    with LOCK:
        STATS[key] += n


class RPCError(Exception):
    """aurweb/exceptions.py RPCError: answered as RPC.error(message)."""


# ---------------------------------------------------------------------------------------------
# .SRCINFO -> one record per pkgname, as aurweb's import stores it
# ---------------------------------------------------------------------------------------------

def parse_srcinfo(text):
    """Returns (pkgbase, base section, [(pkgname, section)]); a section maps each key as written
    (`depends`, `depends_x86_64`, ...) to its list of values. Like python-srcinfo's
    parse_srcinfo: `key = value` lines, `#` comments, a repeated value kept once, and `key =`
    with no value recording the key with an empty list: in a pkgname section that clears what
    the pkgbase says (alpm-srcinfo's Override::Clear)."""
    base, base_fields, packages, current = None, {}, [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        if key == "pkgbase":
            base, current = value, base_fields
        elif key == "pkgname":
            current = {}
            packages.append((value, current))
        elif current is not None:
            values = current.setdefault(key, [])
            if value and value not in values:
                values.append(value)
    return base, base_fields, packages


def merged_for_arch(base_fields, package, arch):
    """alpm-srcinfo MergedPackage::from_base_and_package, as aurweb/git/update.py save_metadata
    calls it once per architecture of the pkgbase: every key the pkgname section has replaces
    the pkgbase's (an empty list clears it); `key_<arch>` lists are overridden the same way, key
    by key, then appended to the plain lists. A pkgname's `depends` does not touch the pkgbase's
    `depends_x86_64`. (python-srcinfo's get_merged_package, the legacy hook, also overrides key
    by key.)"""
    merged = {**base_fields, **package}
    lists = {}
    for key in ARCH_KEYS:
        values = list(merged.get(key, []))
        if arch != "any":
            values += merged.get(f"{key}_{arch}", [])
        lists[key] = values
    return merged, lists


def relation_string(value):
    """What the RPC prints for one dependency or relation: DepName + DepCondition
    (aurweb/rpc.py subquery). An optdepends description (`foo: why`) is stored as DepDesc and
    never sent (aurweb/git/update.py sql_rel_name / update_legacy.py parse_dep)."""
    return value.partition(": ")[0].strip()


def first(merged, key):
    values = merged.get(key)
    return values[0] if values else None


def stable_id(text):
    """IDs that survive a restart (python's hash() is salted per process); u32 as raur wants."""
    return zlib.crc32(text.encode()) & 0x7FFFFFFF or 1


def package_records(text, meta):
    """aurweb/git/update.py save_metadata: one record per pkgname (its Packages row plus the
    PackageDepends/PackageRelations/PackageLicenses/PackageGroups rows), with the pkgbase's
    metadata (`meta`: maintainer, submitter, timestamps, keywords)."""
    base, base_fields, packages = parse_srcinfo(text)
    if base is None:
        return []
    arches = base_fields.get("arch") or ["any"]
    records = []
    for name, section in packages:
        merged, _ = merged_for_arch(base_fields, section, "any")
        lists = {key: [] for key in ARCH_KEYS}
        # Every architecture of the pkgbase, merged into one list without the architecture:
        # the RPC's subquery selects DISTINCT (name, condition) and drops DepArch/RelArch.
        for arch in arches:
            for key, values in merged_for_arch(base_fields, section, arch)[1].items():
                for value in map(relation_string, values):
                    if value not in lists[key]:
                        lists[key].append(value)
        # update_legacy.py save_metadata: the epoch only when above 0.
        epoch = first(merged, "epoch")
        version = f"{first(merged, 'pkgver')}-{first(merged, 'pkgrel')}"
        if epoch and epoch.isdigit() and int(epoch) > 0:
            version = f"{int(epoch)}:{version}"
        records.append({
            "name": name, "pkgbase": base, "version": version,
            "description": first(merged, "pkgdesc"), "url": first(merged, "url"),
            "lists": lists, "license": merged.get("license", []), "groups": merged.get("groups", []),
            "comaintainers": meta.get("comaintainers", []),
            **meta,
        })
    return records


# ---------------------------------------------------------------------------------------------
# RPC answers (aurweb/rpc.py)
# ---------------------------------------------------------------------------------------------

def json_data(record):
    """RPC.get_json_data: the fields every result carries (a search result drops Submitter)."""
    return {
        "ID": stable_id(record["name"]),
        "Name": record["name"],
        "PackageBaseID": stable_id(record["pkgbase"]),
        "PackageBase": record["pkgbase"],
        "Maintainer": record["maintainer"],
        "Submitter": record["submitter"],
        "Version": record["version"],
        "Description": record["description"],
        "URL": record["url"],
        "URLPath": SNAPSHOT_URI % record["pkgbase"],
        "NumVotes": 1,
        "Popularity": 0.5,
        "OutOfDate": None,
        "FirstSubmitted": record["first_submitted"],
        "LastModified": record["last_modified"],
    }


def info_json_data(record):
    """RPC.get_info_json_data: License, Keywords and PendingRequests always; the dependency,
    relation and group lists (RPC.subquery's extra_info) only when they have an entry."""
    data = json_data(record)
    data.update({"License": list(record["license"]), "Keywords": list(record["keywords"]),
                 "PendingRequests": 0})
    for key, rpc_key in ARCH_KEYS.items():
        if record["lists"][key]:
            data[rpc_key] = list(record["lists"][key])
    if record["groups"]:
        data["Groups"] = list(record["groups"])
    # extra_info's CoMaintainers (PackageComaintainers by Priority), only when there is one.
    if record.get("comaintainers"):
        data["CoMaintainers"] = list(record["comaintainers"])
    return data


def like(pattern):
    """SQL LIKE '%term%' as MariaDB runs it for aurweb (case-insensitive collation; `%` and `_`
    in the term are wildcards, aurweb does not escape them)."""
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def relation_names(record, key):
    """DepName / RelName of every entry: the version condition is not part of the match."""
    return {re.split(r"[<>=]", v, maxsplit=1)[0].lower() for v in record["lists"][key]}


def search_matches(by, arg, record):
    """aurweb/packages/search.py RPCSearch.search_by, after RPC.BY_ALIASES."""
    term = arg.lower()
    if by == "name-desc":  # _search_by_namedesc: Name LIKE %arg% OR Description LIKE %arg%
        return bool(like(arg).search(record["name"]) or like(arg).search(record["description"] or ""))
    if by == "name":  # _search_by_name: Name LIKE %arg%
        return bool(like(arg).search(record["name"]))
    if by == "maintainer":  # _search_by_maintainer: exact username; no arg: the orphans
        if not arg:
            return record["maintainer"] is None
        return (record["maintainer"] or "").lower() == term
    if by in ARCH_KEYS:  # _search_by_depends ... _search_by_replaces: exact DepName/RelName
        matched = term in relation_names(record, by)
        # RPC._handle_search_type: "a package always provides itself", unioned with an exact
        # name search.
        return matched or (by == "provides" and record["name"].lower() == term)
    if by == "groups":  # _search_by_groups: exact group name
        return term in {g.lower() for g in record["groups"]}
    # submitter, keywords and comaintainers pass _verify_inputs, but RPCSearch's constructor
    # drops their callbacks ("s", "k", "c"): aurweb fails with an internal error.
    raise NotImplementedError(by)


def handle_rpc(packages, version, kind, by, args):
    """aurweb/rpc.py RPC.handle: the answer as a dict (or a list for suggestions)."""
    rpc_type = "multiinfo" if kind == "info" else kind  # RPC.TYPE_ALIASES
    error = lambda message: {"version": version, "results": [], "resultcount": 0,
                             "type": "error", "error": message}
    # RPC._verify_inputs, in its order.
    if version is None:
        return error("Please specify an API version.")
    if version != 5:
        return error("Invalid version specified.")
    if by not in EXPOSED_BYS:
        return error("Incorrect by field specified.")
    if rpc_type is None:
        return error("No request type/data specified.")
    if rpc_type not in EXPOSED_TYPES:
        return error("Incorrect request type specified.")
    try:
        if rpc_type == "multiinfo":
            results = info_results(packages, args)
        elif rpc_type in ("search", "msearch"):
            count("search_requests")
            results = search_results(packages, "maintainer" if rpc_type == "msearch" else by, args)
        else:
            count("search_requests")
            return suggestions(packages, rpc_type, args)
    except RPCError as e:
        return error(str(e))
    return {"version": version, "type": rpc_type, "resultcount": len(results), "results": results}


def info_results(packages, args):
    """RPC._handle_multiinfo_type: names not found are absent; a name asked twice answers once."""
    if not args:
        raise RPCError("No request type/data specified.")
    count("names_asked", len(args))
    found = [packages[n] for n in sorted(set(args)) if n in packages]
    if len(found) > MAX_RPC_RESULTS:
        raise RPCError("Too many package results.")
    return [info_json_data(r) for r in found]


def search_results(packages, by, args):
    """RPC._handle_search_type: at least two characters except by maintainer (where no argument
    lists the orphans); results carry get_json_data's fields without Submitter."""
    if by != "maintainer" and not args:
        raise RPCError("No request type/data specified.")
    arg = args[0] if args else ""
    if by != "maintainer" and len(arg) < 2:
        raise RPCError("Query arg too small.")
    found = [r for _, r in sorted(packages.items()) if search_matches(by, arg, r)]
    if len(found) > MAX_RPC_RESULTS:
        raise RPCError("Too many package results.")
    results = []
    for record in found:
        data = json_data(record)
        data.pop("Submitter")
        results.append(data)
    return results


def suggestions(packages, rpc_type, args):
    """RPC._handle_suggest_type / _handle_suggest_pkgbase_type: up to 20 names (pkgnames or
    pkgbases) starting with the argument, sorted, as a bare JSON list."""
    if not args:
        return []
    names = {r["pkgbase"] if rpc_type == "suggest-pkgbase" else r["name"] for r in packages.values()}
    return sorted(n for n in names if like(args[0] + "%").match(n))[:20]


# ---------------------------------------------------------------------------------------------
# Package sources: bare repositories (cached by HEAD commit) and synthetic pkgbases
# ---------------------------------------------------------------------------------------------

def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True,
                          text=True).stdout


def head_commit(gitdir):
    """HEAD's commit id read from the ref files, without running git (fast per request)."""
    try:
        with open(os.path.join(gitdir, "HEAD")) as f:
            head = f.read().strip()
        if not head.startswith("ref: "):
            return head or None
        ref = head[5:]
        path = os.path.join(gitdir, ref)
        if os.path.exists(path):
            with open(path) as f:
                return f.read().strip() or None
        packed = os.path.join(gitdir, "packed-refs")
        if os.path.exists(packed):
            with open(packed) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2 and parts[1] == ref:
                        return parts[0]
    except OSError:
        pass
    return None


def read_optional(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


class Repositories:
    """Every pkgbase the server knows: the bare repositories under root (parsed once per HEAD
    commit) and the synthetic ones (parsed once)."""

    def __init__(self, root, synthetic):
        self.root = root
        self.cache = {}  # gitdir -> (commit, srcinfo text, records without per-request meta)
        self.lock = threading.Lock()
        self.synthetic_srcinfo = {}
        self.synthetic_commit = {}
        self.synthetic = {}
        for i in range(synthetic):
            name = f"synth-{i:05d}"
            text = synthetic_srcinfo(i)
            self.synthetic_srcinfo[name] = text
            self.synthetic_commit[name] = hashlib.sha1(text.encode()).hexdigest()
            meta = {"maintainer": "synth", "submitter": "synth", "keywords": [],
                    "first_submitted": 1500000000, "last_modified": 1700000000}
            for record in package_records(text, meta):
                self.synthetic[record["name"]] = record

    def touch_synthetic(self, count):
        """Bumps the LastModified of `count` synthetic pkgbases spread evenly over all of them;
        returns their names."""
        bases = sorted({r["pkgbase"] for r in self.synthetic.values()})
        if count <= 0 or not bases:
            return []
        touched = {bases[i * len(bases) // count] for i in range(min(count, len(bases)))}
        with self.lock:
            for record in self.synthetic.values():
                if record["pkgbase"] in touched:
                    record["last_modified"] += 1
        return sorted(touched)

    def _load(self, gitdir):
        commit = head_commit(gitdir)
        if commit is None:
            return None
        with self.lock:
            cached = self.cache.get(gitdir)
        if cached is None or cached[0] != commit:
            try:
                text = git(gitdir, "show", f"{commit}:.SRCINFO")
                times = git(gitdir, "log", "--format=%ct", commit).split()
            except subprocess.CalledProcessError:
                return None
            cached = (commit, text, int(times[0]), int(times[-1]))
            with self.lock:
                self.cache[gitdir] = cached
        return cached

    def srcinfo(self, pkgbase, commit=None):
        """The .SRCINFO text at HEAD of a pkgbase, or at `commit` when it is one of the
        pkgbase's; None otherwise."""
        if pkgbase in self.synthetic_srcinfo:
            if commit and commit != self.synthetic_commit[pkgbase]:
                return None
            return self.synthetic_srcinfo[pkgbase]
        if not re.fullmatch(r"[a-z0-9@._+-]+", pkgbase or ""):
            return None
        gitdir = os.path.join(self.root, f"{pkgbase}.git")
        if commit:
            if not re.fullmatch(r"[0-9a-f]{7,64}", commit) or not os.path.isdir(gitdir):
                return None
            try:
                # cgit resolves `id` in the repository, then reads the file at that commit.
                return git(gitdir, "show", f"{commit}:.SRCINFO")
            except subprocess.CalledProcessError:
                return None
        loaded = self._load(gitdir)
        return loaded[1] if loaded else None

    def synthetic_lock(self):
        """A repoctl.lock of every synthetic pkgbase at its one commit (they have no git
        history for `repoctl update` to read): what a planning benchmark starts from."""
        out = ["version = 1", ""]
        for name, text in sorted(self.synthetic_srcinfo.items()):
            out += ["[[pkgbase]]", f'name = "{name}"', f'commit = "{self.synthetic_commit[name]}"',
                    'version = "1.0-1"', f'pkgnames = ["{name}"]', 'maintainer = "synth"',
                    "comaintainers = []", 'committed = "2023-11-14T22:13:20Z"',
                    f'files = "sha256:{hashlib.sha256(text.encode()).hexdigest()}"', ""]
        return "\n".join(out)

    def packages(self):
        """pkgname -> record, for every pkgbase."""
        found = dict(self.synthetic)
        for entry in sorted(os.listdir(self.root)):
            if not entry.endswith(".git"):
                continue
            gitdir = os.path.join(self.root, entry)
            loaded = self._load(gitdir)
            if loaded is None:
                continue
            commit, text, last_modified, first_submitted = loaded
            pushed = (read_optional(os.path.join(gitdir, "pushed-at")) or "").split()
            if len(pushed) == 2 and pushed[0] == commit:
                last_modified = int(pushed[1])
            maintainer = read_optional(os.path.join(gitdir, "maintainer"))
            maintainer = DEFAULT_MAINTAINER if maintainer is None else (maintainer.strip() or None)
            submitter = (read_optional(os.path.join(gitdir, "submitter")) or "").strip() or DEFAULT_MAINTAINER
            keywords = (read_optional(os.path.join(gitdir, "keywords")) or "").split()
            comaintainers = (read_optional(os.path.join(gitdir, "comaintainers")) or "").split()
            meta = {"maintainer": maintainer, "submitter": submitter, "keywords": sorted(set(keywords)),
                    "comaintainers": comaintainers,
                    "first_submitted": first_submitted, "last_modified": last_modified}
            for record in package_records(text, meta):
                found[record["name"]] = record
        return found


def synthetic_srcinfo(i):
    depends = ["glibc"] + ([f"synth-{i - 1:05d}>=1.0"] if i % 50 == 1 else [])
    lines = [f"pkgbase = synth-{i:05d}", "\tpkgdesc = synthetic", "\tpkgver = 1.0", "\tpkgrel = 1",
             "\turl = https://example.org/synth", "\tarch = x86_64", "\tlicense = MIT"]
    lines += [f"\tdepends = {d}" for d in depends]
    lines += ["", f"pkgname = synth-{i:05d}", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# HTTP (aurweb/routers/rpc.py and cgit)
# ---------------------------------------------------------------------------------------------

def parse_args(query):
    """aurweb/routers/rpc.py parse_args: when the query string's last `arg`-like key is `arg`,
    that value alone; when it is `arg[]`, the run of `arg[]` values at its end (last first)."""
    parts = [e.split("=", 1) for e in reversed(unquote(query).split("&"))
             if e.startswith(("arg=", "arg[]="))]
    if not parts:
        return []
    last = parts[0][0]
    if last == "arg":
        return [parts[0][1]]
    args = []
    for key, value in parts:
        if key != last:
            break
        args.append(value)
    return args


def version_of(values):
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return values[0]


class Handler(BaseHTTPRequestHandler):
    server_version = "aur-fixture/2"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body of every
    # answer on a kept-alive connection waits for the client's delayed ACK (~40 ms on Linux),
    # which made 5,000 .SRCINFO fetches take 14 s of pure waiting. aurweb's nginx sets
    # TCP_NODELAY on kept-alive connections too.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if os.environ.get("AUR_SERVER_VERBOSE"):
            sys.stderr.write("aur_server: " + fmt % args + "\n")

    def send(self, code, body, content_type="application/json", headers=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def answer_rpc(self, version, kind, by, args):
        """aurweb/routers/rpc.py rpc_request: JSON with sorted keys and an md5 ETag."""
        count("rpc_requests")
        try:
            data = handle_rpc(self.server.repos.packages(), version, kind, by, args)
        except NotImplementedError:
            return self.send(500, "Internal Server Error", "text/plain")
        content = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        etag = hashlib.md5(content).hexdigest()
        if self.headers.get("If-None-Match", "").strip('\t\n\r" ') == etag:
            return self.send(304, b"", headers=[("ETag", f'"{etag}"')])
        self.send(200, content, headers=[("ETag", f'"{etag}"')])

    def legacy_rpc(self, query, fields):
        """GET/POST /rpc: v, type, by, arg / arg[] as query or form fields."""
        if query:
            args = parse_args(query)
        else:
            args = fields.get("arg", [])[:1] + fields.get("arg[]", [])
        return self.answer_rpc(version_of(fields.get("v")), fields.get("type", [None])[0],
                               fields.get("by", [RPC_SEARCH_BY])[0], args)

    def do_GET(self):
        url = urlparse(self.path)
        params = parse_qs(url.query, keep_blank_values=True)
        path = url.path
        if path == "/__stats":
            with LOCK:
                return self.send(200, json.dumps(STATS))
        if path == "/__synthetic-lock":  # test control, not aurweb: see Repositories.synthetic_lock
            return self.send(200, self.server.repos.synthetic_lock(), "text/plain")
        if path in ("/rpc", "/rpc/", "/rpc.php", "/rpc.php/"):
            if not url.query:  # routers/rpc.py rpc: the documentation page
                return self.send(200, "<html><body>aurweb RPC</body></html>", "text/html")
            return self.legacy_rpc(url.query, params)
        match = re.fullmatch(r"/rpc/v([^/]+)/(info|search|suggest|suggest-pkgbase)(?:/(.+))?", path)
        if match:
            version, kind, arg = version_of([match[1]]), match[2], match[3]
            by = params.get("by", [RPC_SEARCH_BY])[0]
            if arg is not None:  # rpc_openapi_info / rpc_openapi_search_arg
                args = [unquote(arg)]
            elif kind == "info":  # rpc_openapi_multiinfo
                args = params.get("arg[]", [])
            else:  # rpc_openapi_search
                args = params.get("arg", [""])[:1]
            return self.answer_rpc(version, kind, by, args)
        if path == "/cgit/aur.git/plain/.SRCINFO":
            return self.cgit_srcinfo(params.get("h", [""])[0], params.get("id", [""])[0])
        self.serve_git(path)

    do_HEAD = do_GET

    def do_POST(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode()
        if url.path == "/__touch":  # test control, not aurweb: see the module docstring
            try:
                touch = int(parse_qs(url.query).get("count", ["1"])[0])
            except ValueError:
                return self.send(400, "count must be an integer", "text/plain")
            return self.send(200, json.dumps(self.server.repos.touch_synthetic(touch)))
        if url.path in ("/rpc", "/rpc/"):  # routers/rpc.py rpc_post: form fields
            return self.legacy_rpc(url.query, parse_qs(body, keep_blank_values=True))
        match = re.fullmatch(r"/rpc/v([^/]+)/(info|search)", url.path)
        if match:  # rpc_openapi_multiinfo_post / rpc_openapi_search_post: a JSON body
            version, kind = version_of([match[1]]), match[2]
            try:
                data = json.loads(body)
            except ValueError:
                return self.send(500, "Internal Server Error", "text/plain")
            if kind == "info":
                args = data.get("arg", [])
                if not isinstance(args, list):
                    return self.send(400, json.dumps(error_json(version, "the 'arg' parameter must be of array type")))
                return self.answer_rpc(version, "info", RPC_SEARCH_BY, args)
            by, arg = data.get("by", RPC_SEARCH_BY), data.get("arg", "")
            if not isinstance(by, str):
                return self.send(400, json.dumps(error_json(version, "the 'by' parameter must be of string type")))
            if not isinstance(arg, str):
                return self.send(400, json.dumps(error_json(version, "the 'arg' parameter must be of string type")))
            return self.answer_rpc(version, "search", by, [arg] if arg else [])
        self.send(404, "not found", "text/plain")

    def cgit_srcinfo(self, pkgbase, commit):
        """cgit's plain view as aur.archlinux.org serves it: the file at the head of branch
        `h` (one branch per pkgbase in aur.git), or at commit `id`; an unknown branch or
        commit is a 404."""
        count("srcinfo_requests")
        text = self.server.repos.srcinfo(pkgbase, commit or None)
        if text is None:
            what = f"Bad object id: {commit}" if commit else f"Invalid branch: {pkgbase}"
            return self.send(404, what, "text/html; charset=UTF-8")
        self.send(200, text, "text/plain; charset=UTF-8")

    def serve_git(self, path):
        parts = path.lstrip("/").split("/", 1)
        if not parts[0].endswith(".git") or ".." in path:
            return self.send(404, "not found", "text/plain")
        if len(parts) == 2 and parts[1] == "info/refs":
            push_if_armed(os.path.join(self.server.root, parts[0]))
        full = os.path.realpath(os.path.join(self.server.root, path.lstrip("/")))
        if not full.startswith(os.path.realpath(self.server.root) + os.sep) or not os.path.isfile(full):
            return self.send(404, "not found", "text/plain")
        with open(full, "rb") as f:
            self.send(200, f.read(), "application/octet-stream")


PUSH_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "push-fixture.sh")


def push_if_armed(gitdir):
    """The push a test armed with `push-on-fetch` (see the module docstring), made once, and
    its time recorded as aurweb records a push's."""
    armed_path = os.path.join(gitdir, "push-on-fetch")
    with LOCK:
        armed = read_optional(armed_path)
        if armed is None:
            return
        os.remove(armed_path)
        armed = json.loads(armed)
        root, name = os.path.split(gitdir)
        env = {**os.environ, "FIXTURE_DATE": armed["date"]}
        subprocess.run(["bash", PUSH_FIXTURE, root, name[:-len(".git")], armed["dir"]], env=env, check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        with open(os.path.join(gitdir, "pushed-at"), "w") as f:
            f.write(f"{head_commit(gitdir)} {int(time.time())}\n")


def error_json(version, message):
    return {"version": version, "results": [], "resultcount": 0, "type": "error", "error": message}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--synthetic", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.root = os.path.abspath(args.root)
    server.repos = Repositories(server.root, args.synthetic)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
