#!/bin/sh
# Runs as root in a build container before makepkg: installs what the build needs (makepkg -s
# semantics), in two steps so that the shared pacman cache gains only what pacman checked
# before any package's code ran (issue 23, item 4):
#   prepare.sh download DEPS...  first in a fresh container: makes this run's packages
#     installable, then `pacman -Sw`: downloads and checks the missing packages against the sync
#     databases, installs nothing, runs no scriptlet. The official ones it downloaded are linked
#     into /repoctl/cache-out (`REPOCTL-CACHE-OUT N` says how many) for repoctl to copy into the
#     shared cache, which this container only reads.
#   prepare.sh install DEPS...   installs them (their install scriptlets run now), then hands the
#     build directories to `builder` (and links a read-only source cache into SRCDEST).
#     `download` does this itself when nothing is missing, and says `REPOCTL-READY`: then no
#     package is installed, and repoctl skips `install`.
# DEPS: dependency strings (depends, makedepends, checkdepends), or `--vcs`: the VCS clients the
# sources of /repoctl/src/.SRCINFO need (makepkg.conf's VCSCLIENTS), for a container that fetches
# sources and installs nothing from the AUR.
set -eu
mode=$1
shift
# Downloads go to the container's own cache; the shared one (a volume, read-only here) is only
# looked in. pacman downloads into the first writable cache directory (pacman.conf(5)).
cachedirs="--cachedir /var/cache/pacman/pkg --cachedir /var/cache/pacman/shared"

# The VCS clients (package names) the sources need: each source's protocol (makepkg's
# get_protocol: the URL's scheme up to `+`), looked up in makepkg.conf's VCSCLIENTS.
vcs_clients() {
  protocols=$(sed -n 's/^[[:space:]]*source\(_[^ =]*\)\{0,1\} = //p' /repoctl/src/.SRCINFO \
    | sed 's/^[^/]*:://' | sed -n 's/^\([a-z0-9]*\)[+:].*/\1/p' | sort -u)
  # shellcheck disable=SC2016
  bash -c 'source /etc/makepkg.conf; for f in /etc/makepkg.conf.d/*.conf; do [ -e "$f" ] && source "$f"; done
    printf "%s\n" "${VCSCLIENTS[@]}"' | while IFS= read -r client; do
    for p in $protocols; do
      [ "${client%%::*}" = "$p" ] && echo "${client#*::}"
    done
  done
}

# The build directories to `builder`. makepkg's SRCDEST: the pkgbase's source cache (a volume
# kept between runs) is mounted there, or, in a build that installs AUR packages, read-only at
# /repoctl/srcdest-cache: its sources were fetched in a container of their own, and makepkg,
# which wants a writable SRCDEST, finds them through links in a directory of this container's.
hand_over() {
  chown -R builder:builder /repoctl/src /repoctl/out
  if [ -d /repoctl/srcdest-cache ]; then
    mkdir -p /repoctl/srcdest
    find /repoctl/srcdest-cache -mindepth 1 -maxdepth 1 -exec ln -s {} /repoctl/srcdest/ \;
  fi
  chown builder:builder /repoctl/srcdest
}

if [ "${1:-}" = --vcs ]; then
  # shellcheck disable=SC2046
  set -- $(vcs_clients)
fi

case $mode in
  download)
    cd /repoctl/localrepo
    # pacman downloads as its DownloadUser (alpm on Arch), file:// servers included: everything
    # it reads from this repository must be readable by that user, whatever came in through Docker.
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
    missing=$( [ "$#" -eq 0 ] || pacman -T "$@" || true)
    mkdir -p /repoctl/cache-out
    if [ -n "$missing" ]; then
      echo "==> Downloading missing dependencies: $(echo $missing)"
      # shellcheck disable=SC2086
      pacman -Sw --noconfirm --needed $cachedirs $missing
      # What pacman fetched from the official mirrors; this run's own packages (copied from
      # repoctl-local) stay out of the shared cache.
      for f in /var/cache/pacman/pkg/*.pkg.tar*; do
        [ -f "$f" ] || continue
        [ -e "/repoctl/localrepo/${f##*/}" ] || ln "$f" /repoctl/cache-out/ || cp "$f" /repoctl/cache-out/
      done
    fi
    echo "REPOCTL-CACHE-OUT $(find /repoctl/cache-out -type f | wc -l)"
    if [ -z "$missing" ]; then
      hand_over
      echo "REPOCTL-READY"
    fi
    ;;
  install)
    missing=$( [ "$#" -eq 0 ] || pacman -T "$@" || true)
    if [ -n "$missing" ]; then
      echo "==> Installing missing dependencies: $(echo $missing)"
      # shellcheck disable=SC2086
      pacman -S --noconfirm --needed --asdeps $cachedirs $missing
    fi
    hand_over
    ;;
  *)
    echo "prepare.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
