#!/bin/sh
# Runs as the unprivileged user `builder` before makepkg, when the PKGBUILD has validpgpkeys or
# repo.yaml lists pgp_keys: puts the public keys into builder's gpg keyring, where makepkg
# checks the sources' signatures (they stay checked: repoctl never passes --skippgpcheck).
#   /repoctl/keys/*.asc: key files repoctl read and checked on the host (the AUR repository's
#     keys/pgp/<FINGERPRINT>.asc for fingerprints in validpgpkeys, repo.yaml's key files);
#   arguments: [--keyserver URL] fingerprints to receive from a keyserver (repo.yaml's pgp_keys).
# Then prints `REPOCTL-KEY <fingerprint>` for each primary key the keyring holds.
set -eu
export GNUPGHOME="${GNUPGHOME:-$HOME/.gnupg}"
mkdir -p "$GNUPGHOME"
chmod 700 "$GNUPGHOME"
for f in /repoctl/keys/*.asc; do
  [ -e "$f" ] || continue
  gpg --batch --no-tty --import "$f"
done
# dirmngr receives keys. Its own DNS resolver fails in containers where the system's works
# (even for an IP literal: "No keyserver available"), so it uses the system's.
{
  echo standard-resolver
  if [ "${1:-}" = --keyserver ]; then
    echo "keyserver $2"
    shift 2
  fi
} > "$GNUPGHOME/dirmngr.conf"
for fpr in "$@"; do
  gpg --batch --no-tty --recv-keys "$fpr" || echo "==> WARNING: could not receive key $fpr from a keyserver"
done
gpg --batch --no-tty --with-colons --list-keys 2>/dev/null \
  | awk -F: '$1 == "pub" { want = 1; next } $1 == "fpr" && want { print "REPOCTL-KEY " $10; want = 0 }'
