#!/usr/bin/env bash
# Runs `repoctl build` end to end on this machine with nothing from the Internet: a fixture AUR
# on loopback, the offline test image, and the local-directory target. Then asks pacman what
# the new repository holds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/testbed.sh --demo

aur=$(mktemp -d)
server=
trap 'kill "$server" 2>/dev/null || true; rm -rf "$aur"' EXIT
# One fixed date: the same fixtures make the same commits, so every run locks the same ones.
# examples/demo/repoctl.lock is not committed: the first run shows `repoctl update`'s review of
# every package it locks, the step a person takes before anything is built.
for fixture in tests/fixtures/aur/*/; do
  FIXTURE_DATE=@1767225600 bash scripts/push-fixture.sh "$aur" "$(basename "$fixture")" "$fixture"
done
exec 3< <(python3 tests/support/aur_server.py --root "$aur" --port 0)
server=$!
read -r _ port <&3
export AUR_LOCATION="http://127.0.0.1:$port"

echo "demo: building repoctl (the first time takes a few minutes)"
cargo build --locked   # not --quiet: the first build takes minutes, and silence looks like a hang
# Lock the AUR's commits (a person reviews this report before committing the lock), then
# build exactly those commits.
cargo run --locked --quiet -- update --config examples/demo/repo.yaml
cargo run --locked --quiet -- build --config examples/demo/repo.yaml

conf=$(mktemp -d)
mkdir -p "$conf/db"
printf '[options]\nDBPath = %s/db\nCacheDir = %s\nLogFile = %s/log\nGPGDir = %s\nSigLevel = Never\nArchitecture = auto\n[demo]\nServer = file://%s/demo-repo\n' \
  "$conf" "$conf" "$conf" "$conf" "$PWD" > "$conf/pacman.conf"
echo
if [ "$(id -u)" -eq 0 ]; then
  pacman --config "$conf/pacman.conf" -Sy >/dev/null
  echo "pacman sees, with 'Server = file://$PWD/demo-repo':"
  pacman --config "$conf/pacman.conf" -Sl demo
else
  echo "The repository is in $PWD/demo-repo; as root, pacman can read it with:"
  echo "  [demo]  Server = file://$PWD/demo-repo"
fi
rm -rf "$conf"
echo
echo "The fixture AUR stopped with this script: to run plan, status or update on examples/demo,"
echo "serve one and set AUR_LOCATION as README.md (and docs/src/getting-started.md) shows."
