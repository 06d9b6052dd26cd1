#!/usr/bin/env bash
# Four independent builds: `repoctl build` with `jobs: 4` against the workflow it replaces, on
# the same image and the same S3 server (moto on loopback):
#   baseline: for each package, plain `docker run` + makepkg in the builder image, one after
#   another; then repo-add on the host; then `s3cmd sync --follow-symlinks --acl-public`.
# Each side runs 3 times from a fresh bucket and work directory; medians are reported.
# Workload: bench/fixtures/work (10 s of waiting + 5 s of CPU per package).
# Needs: scripts/testbed.sh (image, moto), and s3cmd (installed here from Debian if missing).
source "$(dirname "$0")/lib.sh"
command -v s3cmd > /dev/null || { apt-get install -y -qq s3cmd > /dev/null || sudo apt-get install -y -qq s3cmd > /dev/null; }
bin=$(repoctl_bin)
start_aur
start_s3
for i in 1 2 3 4; do
  mkdir -p "$tmp/src/work-$i"
  sed "s/^pkgname=work-N/pkgname=work-$i/" bench/fixtures/work/PKGBUILD > "$tmp/src/work-$i/PKGBUILD"
  push_pkgbase "work-$i" "$tmp/src/work-$i"
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
packages: [work-1, work-2, work-3, work-4]
YAML
}

# Warm-up: makes the builder image both sides use, outside the timings.
make_bucket warm
config warm > "$tmp/warm.yaml"
REPOCTL_WORK_DIR=$tmp/warm-work "$bin" build --no-progress --config "$tmp/warm.yaml" > /dev/null 2>&1
image=$(docker images --format '{{.Repository}}:{{.Tag}}' repoctl-builder | head -1)

repoctl_run() { # repoctl_run N
  make_bucket "rc$1"
  config "rc$1" > "$tmp/rc$1.yaml"
  REPOCTL_WORK_DIR=$tmp/rc-work-$1 "$bin" build --no-progress --config "$tmp/rc$1.yaml"
}

baseline_run() { # baseline_run N
  local out="$tmp/bl$1" i
  make_bucket "bl$1"
  mkdir -p "$out/repo"
  for i in 1 2 3 4; do
    git clone -q "$AUR_URL/work-$i.git" "$out/work-$i"
    chmod -R a+rwX "$out/work-$i"
    docker run --rm -v "$out/work-$i:/pkg" -w /pkg "$image" \
      su builder -c 'PKGEXT=.pkg.tar.zst makepkg -f --nodeps --noconfirm' > "$out/work-$i.log" 2>&1
    cp "$out/work-$i"/*.pkg.tar.zst "$out/repo/"
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
echo "repoctl jobs:4   median $r s (${rc[*]})"
echo "baseline serial  median $b s (${bl[*]})"
python3 -c "print(f'ratio repoctl/baseline: {$r/$b:.2f} (target <= 0.50)')"
