#!/bin/sh
# Runs as root when a run finds the synced image behind the mirrors (or there is none yet), in
# the container whose result becomes the new synced image (syncdigests.sh then records what it
# was upgraded against): brings the system up to date the way Arch's own builders do, the keyring
# first, all in this one container: never a partial upgrade. An image made before a
# packager key rotation otherwise fails the whole upgrade on "signature ... is unknown trust".
set -eu
pacman -Sy --noconfirm
if pacman -Si archlinux-keyring >/dev/null 2>&1; then
  pacman -S --noconfirm --needed archlinux-keyring
fi
pacman -Su --noconfirm
