#!/bin/sh
# Runs as root once per run, in the container whose result becomes the run's image: brings the
# system up to date the way Arch's own builders do, the keyring first. An image made before a
# packager key rotation otherwise fails the whole upgrade on "signature ... is unknown trust".
set -eu
pacman -Sy --noconfirm
if pacman -Si archlinux-keyring >/dev/null 2>&1; then
  pacman -S --noconfirm --needed archlinux-keyring
fi
pacman -Su --noconfirm
