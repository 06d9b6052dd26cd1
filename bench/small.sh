#!/usr/bin/env bash
# One small package (bench/fixtures/small: package() writes one file): `repoctl build` against
# the workflow it replaces, on the same image and the same S3 server (moto on loopback):
#   baseline: `git clone`, one `docker run` of makepkg in the builder image, `repo-add` on the
#   host, `s3cmd sync --follow-symlinks --acl-public`.
# This is repoctl's fixed and per-package cost around makepkg (issue #16).
#
# What is warm, and why that is fair: a warm-up run of each side, outside the timings, makes the
# builder image and reads it into the page cache. repoctl then keeps one work directory across
# its runs, as a nightly on a runner with a cache does (its AUR clones, the official sync
# databases, the source and package cache volumes); the baseline keeps what it has between
# runs on such a machine (the image, nothing else). Every timed run of either side publishes to
# a new, empty bucket, so both build the package and upload all of the repository.
# Each side runs 3 times, interleaved; medians are reported.
# Needs: scripts/testbed.sh (image, moto), and s3cmd (installed here from Debian if missing).
source "$(dirname "$0")/lib.sh"
command -v s3cmd > /dev/null || { apt-get install -y -qq s3cmd > /dev/null || sudo apt-get install -y -qq s3cmd > /dev/null; }
bin=$(repoctl_bin)
start_aur
start_s3
push_pkgbase small bench/fixtures/small
export AUR_LOCATION=$AUR_URL
work=$tmp/rc-work

config() { # config BUCKET
  cat <<YAML
name: bench
s3:
  bucket: $1
  endpoint: $S3_URL
  acl: public-read
builder:
  image: repoctl-testbed:latest
packages: [small]
YAML
}

repoctl_run() { # repoctl_run BUCKET [repoctl options]
  local bucket=$1
  shift
  make_bucket "$bucket"
  config "$bucket" > "$tmp/$bucket.yaml"
  REPOCTL_WORK_DIR=$work "$bin" "$@" build --no-progress --config "$tmp/$bucket.yaml"
}

baseline_run() { # baseline_run BUCKET
  local out="$tmp/$1"
  make_bucket "$1"
  mkdir -p "$out/repo"
  git clone -q "$AUR_URL/small.git" "$out/small"
  chmod -R a+rwX "$out/small"
  docker run --rm -v "$out/small:/pkg" -w /pkg "$image" \
    su builder -c 'PKGEXT=.pkg.tar.zst makepkg -f --nodeps --noconfirm' > "$out/small.log" 2>&1
  cp "$out/small"/*.pkg.tar.zst "$out/repo/"
  repo-add -q "$out/repo/bench.db.tar.gz" "$out/repo"/*.pkg.tar.zst
  s3cmd -c "$tmp/s3cfg" sync -q --follow-symlinks --acl-public "$out/repo/" "s3://$1/"
}

# Warm-up, outside the timings: repoctl locks the package (repoctl.lock, beside every config in
# $tmp), makes (or finds) the builder image and says which it is.
config warm > "$tmp/warm.yaml"
REPOCTL_WORK_DIR=$work "$bin" update --config "$tmp/warm.yaml" > "$tmp/update.out" 2>&1 || { cat "$tmp/update.out" >&2; exit 1; }
repoctl_run warm -v > "$tmp/warm.out" 2> "$tmp/warm.err" || { cat "$tmp/warm.out" "$tmp/warm.err" >&2; exit 1; }
image=$(sed -n 's/.*builder image \(repoctl-builder:[0-9a-f]*\).*/\1/p' "$tmp/warm.err" | head -1)
[ -n "$image" ] || { echo "the warm-up did not name its builder image" >&2; cat "$tmp/warm.err" >&2; exit 1; }
baseline_run bl-warm

rc=() bl=()
for n in 1 2 3; do
  rc+=("$(seconds repoctl_run "rc$n")")
  bl+=("$(seconds baseline_run "bl$n")")
done
r=$(median "${rc[@]}") b=$(median "${bl[@]}")
echo "machine: $(machine)"
echo "image: $image"
echo "repoctl build    median $r s (${rc[*]})"
echo "baseline         median $b s (${bl[*]})"
python3 -c "print(f'ratio repoctl/baseline: {$r/$b:.2f} (target <= 1.2, goal 1.0)')"
if [ -n "${PHASES:-}" ]; then
  # PHASES=1: one more repoctl run with -vv, its per-phase timings (debug lines) printed.
  # Each stderr line is prefixed with the seconds since the run started.
  repoctl_run rc-phases -vv 2>&1 > "$tmp/phases.out" \
    | python3 -uc 'import sys, time
t = time.time()
for line in sys.stdin: print(f"{time.time() - t:7.3f} {line}", end="")'
fi
