#!/bin/sh
# Runs as root right after build.sh's makepkg (issue 23): stops every process of the build user
# `builder`, then moves the package files in makepkg's output directory into
# /repoctl/collected, a directory only root can write, listed in its .packagelist. repoctl
# copies out that directory alone and checks every file's .PKGINFO on the host.
#
# What this guarantees: no process of the build (a daemon started by build(), a test suite
# left running) writes to the package files once makepkg has exited, nor adds one to what is
# collected. What it cannot: code that runs while makepkg packages (package(), the PKGBUILD's
# global scope, and whatever they start before makepkg exits) runs as the same user as
# makepkg's archiving and can write makepkg's output directory, as it can choose the packages'
# content; the host's .PKGINFO check is what holds it to the pkgnames, pkgbase, arch and version
# the lock declares.
set -eu
out=/repoctl/out
dest=/repoctl/collected
uid=$(id -u builder)

# Processes of builder (their real or saved uid: whom kill(2) lets builder signal) that are not
# zombies (a zombie is dead; docker's init reaps it). /proc/PID/status starts with `Name:`; a
# process may end while it is read.
alive() {
  cat /proc/[0-9]*/status 2>/dev/null | awk -v uid="$uid" '
    $1 == "Name:" { if (u && s != "Z") n++; u = 0; s = "" }
    $1 == "State:" { s = $2 }
    $1 == "Uid:" && ($2 == uid || $4 == uid) { u = 1 }
    END { if (u && s != "Z") n++; print n + 0 }'
}

left=$(alive)
# None left: none can appear (only a process of builder makes another one; nothing else runs).
if [ "$left" -gt 0 ]; then
  # kill(-1, SIGKILL) by a process of that user signals all of them at once, and the kernel
  # lets none of them fork past it (kill(2)); bash's kill takes pid -1, dash's does not.
  setpriv --reuid=builder --regid=builder --clear-groups -- bash -c 'kill -KILL -1' 2>/dev/null || true
  i=0
  while [ "$(alive)" -gt 0 ]; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
      echo "==> repoctl: processes of the build user survived SIGKILL; not collecting packages" >&2
      exit 1
    fi
    sleep 0.05
  done
  echo "==> repoctl: stopped $left process(es) of the build user that outlived makepkg"
fi

rm -rf "$dest"
mkdir -m 755 "$dest"
: > "$dest/.packagelist"
# The build user could have replaced its output directory with a link to somewhere else.
[ -d "$out" ] && [ ! -L "$out" ] || exit 0
for f in "$out"/*.pkg.tar*; do
  # Regular files only: a link or a directory of that name is not a package makepkg wrote.
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  # NAME.pkg.tar or NAME.pkg.tar.EXT, not a file named after one (NAME.pkg.tar.zst.sig).
  rest=${f##*.pkg.tar}
  case $rest in
    '') ;;
    .*) case ${rest#.} in '' | *[!A-Za-z0-9]*) continue ;; esac ;;
    *) continue ;;
  esac
  mv "$f" "$dest/"
  echo "$dest/${f##*/}" >> "$dest/.packagelist"
done
