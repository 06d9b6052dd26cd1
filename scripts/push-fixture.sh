#!/usr/bin/env bash
# push-fixture.sh BARE_ROOT PKGBASE DIR: publishes DIR (its files, subdirectories and dotfiles
# included) as a new commit of the AUR pkgbase PKGBASE, that is the bare repository
# BARE_ROOT/PKGBASE.git that tests/support/aur_server.py serves; the repository is made on first
# use. Files of an earlier commit that DIR lacks stay. FIXTURE_DATE (any date git reads, such as
# "5 days ago" or "@1700000000") dates the commit, which the server reports as LastModified. The one way a pkgbase is pushed: the
# integration tests (tests/support/aur.rs), scripts/demo.sh and bench/lib.sh all call it.
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 BARE_ROOT PKGBASE DIR" >&2
  exit 2
fi
root=$1 pkgbase=$2 dir=$3
bare="$root/$pkgbase.git"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -d "$bare" ] || git init -q --bare --initial-branch=master "$bare"
# Cloning an empty repository warns even with -q: show git's words only when it fails.
if ! err=$(git clone -q "$bare" "$work/w" 2>&1); then
  echo "$err" >&2
  exit 1
fi
cp -R "$dir/." "$work/w/"
git -C "$work/w" add -A
if [ -n "${FIXTURE_DATE:-}" ]; then
  export GIT_AUTHOR_DATE="$FIXTURE_DATE" GIT_COMMITTER_DATE="$FIXTURE_DATE"
fi
git -C "$work/w" -c user.name=fixture -c user.email=fixture@example.org commit -q --allow-empty -m "$pkgbase"
git -C "$work/w" push -q origin HEAD:master
# The server speaks git's dumb HTTP protocol, which reads info/refs.
git -C "$bare" update-server-info
