#!/bin/sh
# Runs once, as root, when the builder image is made.
set -eu

# pacman expects these; an Arch image has them, a Debian-based test image may not.
[ -e /etc/mtab ] || ln -s /proc/self/mounts /etc/mtab
mkdir -p /var/lib/pacman /var/cache/pacman/pkg

# The unprivileged user that runs makepkg.
id builder >/dev/null 2>&1 || useradd --create-home --user-group builder

# /repoctl/src: the PKGBUILD; /repoctl/out: packages; /repoctl/localrepo: packages built
# earlier in the run, so AUR dependencies install through pacman like any other.
mkdir -p /repoctl/src /repoctl/out /repoctl/localrepo
repo-add -q /repoctl/localrepo/repoctl-local.db.tar.gz 2>/dev/null
if ! grep -q '^\[repoctl-local\]' /etc/pacman.conf; then
  printf '\n[repoctl-local]\nSigLevel = Optional TrustAll\nServer = file:///repoctl/localrepo\n' >> /etc/pacman.conf
fi
chown -R builder:builder /repoctl

# Bring the image up to date once here, instead of in every build container.
pacman -Syu --noconfirm
rm -rf /var/cache/pacman/pkg/*
