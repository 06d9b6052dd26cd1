#!/bin/sh
# Runs as root in a throwaway container of the builder image: downloads the sync databases of
# the repositories its pacman.conf names (pacman -Sy, with the image's own DownloadUser and
# sandbox settings, as refresh.sh does) and copies those of the official ones to
# /repoctl/syncdbs, with `repos` listing them in pacman.conf order and `servers` giving each
# one's Server lines as this pacman expands them ($repo and $arch replaced), one
# `REPO URL` line per server in pacman.conf order: repoctl checks the databases against
# those servers itself afterwards. repoctl-local, which setup.sh adds for packages built
# during a run, is not an official repository. The `.files` databases too (pacman -Fy), as
# REPO.files beside REPO.db: what repoctl checks the sonames published packages need against
# (issue 26); a repository whose servers have none is copied without it.
set -eu
out=/repoctl/syncdbs
pacman -Sy --noconfirm >&2
pacman -Fy --noconfirm >&2 || echo "syncdbs: pacman -Fy failed; the soname check is off" >&2
sync="$(pacman-conf DBPath)"
sync="${sync%/}/sync"
rm -rf "$out"
mkdir -p "$out"
: > "$out/repos"
: > "$out/servers"
for repo in $(pacman-conf --repo-list); do
  [ "$repo" = repoctl-local ] && continue
  # -p keeps the time pacman gave the file: the server's Last-Modified (curl's filetime).
  cp -Lp "$sync/$repo.db" "$out/$repo.db"
  if [ -f "$sync/$repo.files" ]; then cp -Lp "$sync/$repo.files" "$out/$repo.files"; fi
  echo "$repo" >> "$out/repos"
  pacman-conf --repo="$repo" Server | while IFS= read -r server; do
    printf '%s %s\n' "$repo" "$server"
  done >> "$out/servers"
done
