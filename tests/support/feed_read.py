#!/usr/bin/env python3
"""Reads an Atom feed with feedparser (PyPI, pinned by scripts/testbed.sh) and prints what it
parsed as JSON: the feed's version ("atom10" for Atom 1.0), its bozo flag (set when the document
is not well-formed XML or feedparser had to guess), and the feed's and each entry's fields.

RFC 4287's required elements are checked here too, on feedparser's model rather than on the
text: a feed needs an id, a title, an updated date and an author (or one in every entry); an
entry needs an id, a title and an updated date, and an alternate link when it has no content.
Each missing one is listed under "missing".

Usage: feed_read.py FILE.atom
"""
import json
import sys

import feedparser


def missing(feed, entries):
    out = [f"feed {k}" for k in ("id", "title", "updated") if not feed.get(k)]
    if not feed.get("author_detail") and not all(e.get("author_detail") for e in entries):
        out.append("feed author")
    for i, e in enumerate(entries):
        out += [f"entry {i} {k}" for k in ("id", "title", "updated") if not e.get(k)]
        alternate = any(link.get("rel") == "alternate" for link in e.get("links", []))
        if not e.get("content") and not alternate:
            out.append(f"entry {i} alternate link or content")
    return out


def main():
    parsed = feedparser.parse(sys.argv[1])
    entries = parsed.entries
    print(json.dumps({
        "version": parsed.version,
        "bozo": bool(parsed.bozo),
        "bozo_exception": str(parsed.get("bozo_exception", "")),
        "missing": missing(parsed.feed, entries),
        "title": parsed.feed.get("title"),
        "id": parsed.feed.get("id"),
        "links": [{"rel": link.get("rel"), "href": link.get("href")} for link in parsed.feed.get("links", [])],
        "entries": [{
            "id": e.get("id"),
            "title": e.get("title"),
            "updated": e.get("updated"),
            "summary": e.get("summary"),
            "links": [{"rel": link.get("rel"), "href": link.get("href")} for link in e.get("links", [])],
        } for e in entries],
    }, indent=1))


if __name__ == "__main__":
    main()
