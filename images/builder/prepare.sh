#!/bin/sh
# Runs as root in a build container before makepkg: makes the packages of this run
# installable, then installs what the PKGBUILD needs (makepkg -s semantics).
# Arguments: dependency strings (depends, makedepends, checkdepends).
set -eu
cd /repoctl/localrepo
# pacman downloads as its DownloadUser (alpm on Arch), file:// servers included: everything it
# reads from this repository must be readable by that user, whatever came in through Docker.
chmod a+rx /repoctl /repoctl/localrepo
pkgs=$(find . -maxdepth 1 -type f -name '*.pkg.tar*' ! -name '*.sig' | sort)
if [ -n "$pkgs" ]; then
  # shellcheck disable=SC2086
  repo-add -q repoctl-local.db.tar.gz $pkgs
fi
chmod -R a+rX /repoctl/localrepo
# The system and its sync databases were brought up to date once for the whole run (the run
# image), so no -y here: refreshing the official databases now and installing from them would
# be a partial upgrade. Only this run's local repository is synced, by copying its database
# where `pacman -Sy` would have put it.
cp repoctl-local.db.tar.gz /var/lib/pacman/sync/repoctl-local.db
chmod 644 /var/lib/pacman/sync/repoctl-local.db
if [ "$#" -gt 0 ]; then
  missing=$(pacman -T "$@" || true)
  if [ -n "$missing" ]; then
    echo "==> Installing missing dependencies: $(echo $missing)"
    # shellcheck disable=SC2086
    pacman -S --noconfirm --needed --asdeps $missing
  fi
fi
chown -R builder:builder /repoctl/src /repoctl/out
# The pkgbase's source cache (a volume kept between runs): makepkg's SRCDEST.
mkdir -p /repoctl/srcdest
chown builder:builder /repoctl/srcdest
