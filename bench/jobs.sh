#!/usr/bin/env bash
# Four independent builds: `repoctl build` with `jobs: 4` against the workflow it replaces, on
# the same image and the same S3 server (moto on loopback):
#   baseline: for each package, plain `docker run` + makepkg in the builder image, one after
#   another; then repo-add on the host; then `s3cmd sync --follow-symlinks --acl-public`.
# Each side runs 3 times, each time into a fresh bucket; medians are reported. repoctl keeps
# the warm-up's work directory across its runs, as a nightly with the workflow's cache does
# (since 2026-12-03; before, each run started from an empty one, which added the official
# databases' container and four AUR clones to every run); the baseline clones afresh each time.
# Usage: bench/jobs.sh [work|sleep]
#   work (default): bench/fixtures/work, 10 s of waiting + 5 s of CPU per package;
#   sleep: bench/fixtures/sleep, build() sleeps 6 s and nothing else (issue #16): what is left
#   besides the waiting is each side's own cost per package.
# Needs: scripts/testbed.sh (image, moto), and s3cmd (installed here from Debian if missing).
source "$(dirname "$0")/lib.sh"
command -v s3cmd > /dev/null || { apt-get install -y -qq s3cmd > /dev/null || sudo apt-get install -y -qq s3cmd > /dev/null; }
workload=${1:-work}
case $workload in
  work) target=0.50 ;;
  sleep) target="0.40, goal 0.30" ;;
  *) echo "usage: $0 [work|sleep]" >&2; exit 2 ;;
esac
bin=$(repoctl_bin)
start_aur
start_s3
for i in 1 2 3 4; do
  mkdir -p "$tmp/src/$workload-$i"
  sed "s/^pkgname=$workload-N/pkgname=$workload-$i/" "bench/fixtures/$workload/PKGBUILD" > "$tmp/src/$workload-$i/PKGBUILD"
  push_pkgbase "$workload-$i" "$tmp/src/$workload-$i"
done
export AUR_LOCATION=$AUR_URL

config() { # config BUCKET
  cat <<YAML
name: bench
s3:
  bucket: $1
  endpoint: $S3_URL
  acl: public-read
builder:
  image: repoctl-testbed:latest
  jobs: 4
packages: [$workload-1, $workload-2, $workload-3, $workload-4]
YAML
}

# Warm-up, outside the timings: locks the packages (repoctl.lock, beside every config in $tmp)
# and makes the builder image both sides use.
make_bucket warm
config warm > "$tmp/warm.yaml"
REPOCTL_WORK_DIR=$tmp/warm-work "$bin" update --config "$tmp/warm.yaml" > "$tmp/update.out" 2>&1 \
  || { cat "$tmp/update.out" >&2; exit 1; }
REPOCTL_WORK_DIR=$tmp/warm-work "$bin" -v build --no-progress --config "$tmp/warm.yaml" > "$tmp/warm.out" 2> "$tmp/warm.err" \
  || { cat "$tmp/warm.out" "$tmp/warm.err" >&2; exit 1; }
# The builder image repoctl used (other tags of repoctl-builder may be there: run images, other recipes).
image=$(sed -n 's/.*builder image \(repoctl-builder:[0-9a-f]*\).*/\1/p' "$tmp/warm.err" | head -1)
[ -n "$image" ] || { echo "the warm-up did not name its builder image" >&2; cat "$tmp/warm.err" >&2; exit 1; }

repoctl_run() { # repoctl_run N
  make_bucket "rc$1"
  config "rc$1" > "$tmp/rc$1.yaml"
  REPOCTL_WORK_DIR=$tmp/warm-work "$bin" build --no-progress --config "$tmp/rc$1.yaml"
}

baseline_run() { # baseline_run N
  local out="$tmp/bl$1" i
  make_bucket "bl$1"
  mkdir -p "$out/repo"
  for i in 1 2 3 4; do
    git clone -q "$AUR_URL/$workload-$i.git" "$out/$workload-$i"
    chmod -R a+rwX "$out/$workload-$i"
    docker run --rm -v "$out/$workload-$i:/pkg" -w /pkg "$image" \
      su builder -c 'PKGEXT=.pkg.tar.zst makepkg -f --nodeps --noconfirm' > "$out/$workload-$i.log" 2>&1
    cp "$out/$workload-$i"/*.pkg.tar.zst "$out/repo/"
  done
  repo-add -q "$out/repo/bench.db.tar.gz" "$out/repo"/*.pkg.tar.zst
  s3cmd -c "$tmp/s3cfg" sync -q --follow-symlinks --acl-public "$out/repo/" "s3://bl$1/"
}

rc=() bl=()
for n in 1 2 3; do
  rc+=("$(seconds repoctl_run "$n")")
  bl+=("$(seconds baseline_run "$n")")
done
r=$(median "${rc[@]}") b=$(median "${bl[@]}")
echo "machine: $(machine)"
echo "workload: $workload; image: $image"
echo "repoctl jobs:4   median $r s (${rc[*]})"
echo "baseline serial  median $b s (${bl[*]})"
python3 -c "print(f'ratio repoctl/baseline: {$r/$b:.2f} (target <= $target)')"
