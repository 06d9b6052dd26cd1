#!/bin/sh
# Runs as root right after refresh.sh, in the same container: prints `REPO=SHA256` for the sync
# database of each repository pacman.conf names, in its order. repoctl-local, which setup.sh adds
# for packages built during a run, is not an official repository. repoctl labels the synced image
# with these and compares them with the SHA-256 of the databases the plan read (the same files:
# syncdbs.sh copies them out), to tell whether `pacman -Syu` would change anything.
set -eu
sync="$(pacman-conf DBPath)"
sync="${sync%/}/sync"
for repo in $(pacman-conf --repo-list); do
  [ "$repo" = repoctl-local ] && continue
  digest=$(sha256sum < "$sync/$repo.db")
  echo "$repo=${digest%% *}"
done
