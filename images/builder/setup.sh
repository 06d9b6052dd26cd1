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

# The official image ships its pacman keyring without a local signing key (so that no two
# containers share one); pacman-key makes one, as the image's documentation asks. An image
# without Arch's keyring files (the offline test image) has nothing to populate.
if [ -e /usr/share/pacman/keyrings/archlinux.gpg ] \
  && ! pacman-key --list-secret-keys 2>/dev/null | grep -q '^sec'; then
  pacman-key --init
  pacman-key --populate archlinux
fi

# Bring the image up to date once here, instead of in every build container: the keyring first.
sh /usr/local/lib/repoctl/refresh.sh
rm -rf /var/cache/pacman/pkg/*
