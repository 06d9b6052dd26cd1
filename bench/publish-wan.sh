#!/usr/bin/env bash
# Publishing over a simulated WAN link (issue #4), against the workflow it replaces:
#   baseline: `repo-add` (Debian's, on the host), then
#             `s3cmd sync --follow-symlinks --acl-public` of the directory;
#   repoctl:  `repoctl publish DIR` (every file checked against its provenance record and
#             repoctl.lock, repo-add in a container, uploads, conditional commit).
# The link is bench/wan_proxy.py in front of moto: 30 ms round trip, 200 Mbit/s per connection.
# Measures, 3 runs each from a fresh bucket (medians):
#   1. publishing 40 packages of 2 MB (incompressible payloads);
#   2. publishing the same directory again (nothing new) against `s3cmd sync`'s no-op;
#   3. repoctl's peak memory (max RSS) publishing three 300 MB packages (moto direct).
# The packages are what `repoctl publish DIR` accepts since issue #23: made by
# `repoctl build --no-publish --out DIR` from locked split pkgbases on the AUR stand-in (blob:
# blob-01..40, huge: huge-1..3), with their provenance records; that build is outside the
# timings. The baseline publishes the same package files.
# Needs: scripts/testbed.sh (image, moto, makepkg), s3cmd (installed from Debian if missing).
source "$(dirname "$0")/lib.sh"
command -v s3cmd > /dev/null || { apt-get install -y -qq s3cmd > /dev/null || sudo apt-get install -y -qq s3cmd > /dev/null; }
bin=$(repoctl_bin)
start_aur
start_s3
start_wan 30 200

# split_pkgbase NAME PREFIX COUNT SIZE: pushes pkgbase NAME to the AUR stand-in, whose COUNT split
# packages PREFIX-01... each hold an incompressible payload of SIZE (head -c syntax).
split_pkgbase() {
  local name=$1 prefix=$2 count=$3 size=$4 dir="$tmp/src-$1" i names=()
  for i in $(seq -w 1 "$count"); do names+=("$prefix-$i"); done
  mkdir -p "$dir"
  {
    echo "pkgbase=$name"
    echo "pkgname=(${names[*]})"
    echo "pkgver=1.0"
    echo "pkgrel=1"
    echo "arch=('any')"
    echo "license=('MIT')"
    echo "_payload() { install -d \"\$pkgdir/usr/share/\$1\"; head -c $size /dev/urandom > \"\$pkgdir/usr/share/\$1/payload\"; }"
    for n in "${names[@]}"; do echo "package_$n() { _payload $n; }"; done
  } > "$dir/PKGBUILD"
  push_pkgbase "$name" "$dir"
  printf '%s\n' "${names[@]}"
}
listed=$( { split_pkgbase blob blob 40 2M; split_pkgbase huge huge 3 300M; } | paste -sd, -)
export AUR_LOCATION=$AUR_URL

config() { # config BUCKET ENDPOINT
  cat <<YAML
name: bench
s3:
  bucket: $1
  endpoint: $2
  acl: public-read
builder:
  image: repoctl-testbed:latest
packages: [$listed]
YAML
}

# The work directory: by default the one the warm-up built in ($tmp/work-warm), kept between
# runs as `.repoctl/` is beside repo.yaml on a laptop or on a CI runner that caches it; its
# official sync databases (the publish gate's, issue 26) are then read from the cache, not by
# a container. WORK=fresh gives every bucket a new one, as a runner without a cache has.
work_for() { if [ "${WORK:-kept}" = fresh ]; then echo "$tmp/work-$1"; else echo "$tmp/work-warm"; fi; }

repoctl_publish() { # repoctl_publish BUCKET ENDPOINT DIR [WRAPPER...]
  local bucket=$1 endpoint=$2 dir=$3
  shift 3
  config "$bucket" "$endpoint" > "$tmp/$bucket.yaml"
  REPOCTL_WORK_DIR=$(work_for "$bucket") "$@" "$bin" publish --no-progress --config "$tmp/$bucket.yaml" "$dir"
}

baseline_publish() { # baseline_publish DIR BUCKET
  repo-add -q "$1/bench.db.tar.gz" "$1"/*.pkg.tar.zst
  s3cmd -c "$tmp/s3cfg-wan" sync -q --follow-symlinks --acl-public "$1/" "s3://$2/"
}

# Outside the timings: lock both pkgbases (repoctl.lock, beside every config in $tmp), build
# them once into $tmp/out, and publish once (which makes the builder image repo-add runs in).
make_bucket warm
config warm "$S3_URL" > "$tmp/warm.yaml"
REPOCTL_WORK_DIR=$tmp/work-warm "$bin" update --config "$tmp/warm.yaml" > "$tmp/warm.log" 2>&1 \
  && REPOCTL_WORK_DIR=$tmp/work-warm "$bin" build --no-progress --config "$tmp/warm.yaml" --no-publish --out "$tmp/out" \
    >> "$tmp/warm.log" 2>&1 || { cat "$tmp/warm.log" >&2; exit 1; }
mkdir -p "$tmp/pkgs" "$tmp/huge"
mv "$tmp/out"/blob-* "$tmp/pkgs/"
mv "$tmp/out"/huge-* "$tmp/huge/"
[ "$(ls "$tmp/pkgs"/*.pkg.tar.zst | wc -l)" = 40 ] || { echo "expected 40 blob packages" >&2; ls -la "$tmp/out" "$tmp/pkgs" >&2; exit 1; }
echo "40 packages: $(du -shc "$tmp/pkgs"/*.pkg.tar.zst | tail -1 | cut -f1)" >&2
repoctl_publish warm "$S3_URL" "$tmp/pkgs" >> "$tmp/warm.log" 2>&1 || { cat "$tmp/warm.log" >&2; exit 1; }

rc=() bl=() rc_noop=() bl_noop=()
for n in 1 2 3; do
  make_bucket "rc$n"
  rc+=("$(seconds repoctl_publish "rc$n" "$WAN_URL" "$tmp/pkgs")")
  make_bucket "bl$n"
  mkdir -p "$tmp/bl$n" && cp -l "$tmp/pkgs"/*.pkg.tar.zst "$tmp/bl$n/"
  bl+=("$(seconds baseline_publish "$tmp/bl$n" "bl$n")")
done
for n in 1 2 3; do
  rc_noop+=("$(seconds repoctl_publish rc1 "$WAN_URL" "$tmp/pkgs")")
  bl_noop+=("$(seconds s3cmd -c "$tmp/s3cfg-wan" sync -q --follow-symlinks --acl-public "$tmp/bl1/" "s3://bl1/")")
done

if [ -n "${PHASES:-}" ]; then cp -a "$tmp/pkgs" "$tmp/phases-pkgs"; fi
rm -rf "$tmp/pkgs" "$tmp"/bl?
make_bucket mem
repoctl_publish mem "$S3_URL" "$tmp/huge" /usr/bin/time -v -o "$tmp/time-v" > "$tmp/mem.log" 2>&1 \
  || { cat "$tmp/mem.log" >&2; exit 1; }
rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time-v")

r=$(median "${rc[@]}") b=$(median "${bl[@]}") rn=$(median "${rc_noop[@]}") bn=$(median "${bl_noop[@]}")
echo "machine: $(machine)"
echo "work directory: ${WORK:-kept} (WORK=fresh: a new one per bucket)"
echo "link: 30 ms RTT, 200 Mbit/s per connection (bench/wan_proxy.py)"
echo "publish 40 x 2 MB: repoctl median $r s (${rc[*]}); repo-add + s3cmd sync median $b s (${bl[*]})"
python3 -c "print(f'  ratio {$r/$b:.2f} (target <= 0.40)')"
echo "re-publish, nothing new: repoctl median $rn s (${rc_noop[*]}); s3cmd sync median $bn s (${bl_noop[*]})"
python3 -c "print(f'  ratio {$rn/$bn:.2f} (target <= 0.50)')"
python3 -c "print(f'publish 3 x 300 MB: max RSS {$rss_kib/1024:.1f} MiB (target < 150 MiB)')"
if [ -n "${PHASES:-}" ]; then
  # PHASES=1: a publish to a fresh bucket and a no-op re-publish over the link with -vv, each
  # stderr line prefixed with the seconds since the run started.
  stamp() { python3 -uc 'import sys, time
t = time.time()
for line in sys.stdin: print(f"{time.time() - t:7.3f} {line}", end="")'; }
  echo "--- PHASES: publish to a fresh bucket"
  make_bucket phases
  repoctl_publish phases "$WAN_URL" "$tmp/phases-pkgs" env RUST_LOG=repoctl=debug 2>&1 >/dev/null | stamp
  echo "--- PHASES: re-publish, nothing new"
  repoctl_publish phases "$WAN_URL" "$tmp/phases-pkgs" env RUST_LOG=repoctl=debug 2>&1 >/dev/null | stamp
fi
