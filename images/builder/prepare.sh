#!/bin/sh
# Runs as root in a build container before makepkg: makes the packages of this run
# installable, then installs what the PKGBUILD needs (makepkg -s semantics).
# Arguments: dependency strings (depends, makedepends, checkdepends).
set -eu
cd /repoctl/localrepo
pkgs=$(find . -maxdepth 1 -type f -name '*.pkg.tar*' ! -name '*.sig' | sort)
if [ -n "$pkgs" ]; then
  # shellcheck disable=SC2086
  repo-add -q repoctl-local.db.tar.gz $pkgs
fi
# -Syu, not -Sy: installing new dependencies against an older system is a partial upgrade.
pacman -Syu --noconfirm
if [ "$#" -gt 0 ]; then
  missing=$(pacman -T "$@" || true)
  if [ -n "$missing" ]; then
    echo "==> Installing missing dependencies: $(echo $missing)"
    # shellcheck disable=SC2086
    pacman -S --noconfirm --needed --asdeps $missing
  fi
fi
chown -R builder:builder /repoctl/src /repoctl/out
