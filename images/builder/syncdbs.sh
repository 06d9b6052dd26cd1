#!/bin/sh
# Runs as root in a throwaway container of the builder image: downloads the sync databases of
# the repositories its pacman.conf names (pacman -Sy, with the image's own DownloadUser and
# sandbox settings, as refresh.sh does) and copies those of the official ones to
# /repoctl/syncdbs, with `repos` listing them in pacman.conf order. repoctl-local, which
# setup.sh adds for packages built during a run, is not an official repository.
set -eu
out=/repoctl/syncdbs
pacman -Sy --noconfirm >&2
sync="$(pacman-conf DBPath)"
sync="${sync%/}/sync"
rm -rf "$out"
mkdir -p "$out"
: > "$out/repos"
for repo in $(pacman-conf --repo-list); do
  [ "$repo" = repoctl-local ] && continue
  cp -L "$sync/$repo.db" "$out/$repo.db"
  echo "$repo" >> "$out/repos"
done
