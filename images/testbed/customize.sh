#!/bin/sh
# Runs inside mmdebstrap's customize hook: $1 is the new root, $2 this directory. It makes the
# Debian root an archlinux:base-devel as far as repoctl can tell (SETTINGS.md says what and why):
#  - Arch's pacman.conf (DownloadUser = alpm, the official image's sandbox, NoExtract and
#    CheckSpace settings) and Arch's x86_64 makepkg.conf values;
#  - the system user `alpm` that pacman downloads as;
#  - stand-ins for [core] and [extra]: sync databases served from file:// like a mirror, whose
#    `debian-base` package provides what dpkg installed (base-devel, git, ...) and is installed
#    through pacman, so that pacman's local database knows those names as on Arch.
set -eu
root=$1
here=$2

# pacman expects these; an Arch image has them.
ln -sf /proc/self/mounts "$root/etc/mtab"
mkdir -p "$root/var/lib/pacman" "$root/var/cache/pacman/pkg" "$root/etc/pacman.d"

# Arch's configuration files. makepkg.conf: Debian's own file, then Arch's x86_64 values after
# it (bash: the last assignment wins), so anything Arch does not set stays as makepkg 7.1 ships it.
cp "$here/pacman.conf" "$root/etc/pacman.conf"
echo 'Server = file:///srv/archlinux/$repo/os/$arch' > "$root/etc/pacman.d/mirrorlist"
cat "$here/makepkg.conf" >> "$root/etc/makepkg.conf"

# The download user, as Arch's pacman package declares it (sysusers.d/alpm.conf).
chroot "$root" useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin \
  --comment 'Arch Linux Package Management' alpm

# [core] and [extra] stand-ins, then pacman installs from them as on Arch.
sh "$here/standin.sh" "$root"
# Its transaction (the package table, the auto-answered `Proceed with installation? [Y/n]`) is
# shown only when it fails: on success it is noise in the demo's first run (issue 29). The
# command and its options are the same either way.
said=$(chroot "$root" pacman -Sy --noconfirm debian-base archlinux-keyring 2>&1) \
  || { printf '%s\n' "$said" >&2; exit 1; }
echo "testbed: pacman installed debian-base and archlinux-keyring from the stand-in [core]"
rm -rf "$root"/var/cache/pacman/pkg/*
