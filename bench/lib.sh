# Shared by the bench scripts: a release build of repoctl and the test bed's servers on loopback.
# Source it; it sets $tmp (removed on exit) and defines the helpers below.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp"   # makepkg --printsrcinfo runs as nobody in here
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# repoctl_bin: builds repoctl (release) and prints the binary's path; honours CARGO_TARGET_DIR
# (relative to the repository root, as cargo reads it from here), else $root/target.
# REPOCTL_BIN=PATH uses that binary instead, building nothing (to compare two builds).
repoctl_bin() {
  if [ -n "${REPOCTL_BIN:-}" ]; then echo "$REPOCTL_BIN"; return; fi
  cargo build --release --locked -q
  local target=${CARGO_TARGET_DIR:-target}
  [[ $target = /* ]] || target="$root/$target"
  echo "$target/release/repoctl"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_aur [--synthetic N]: sets AUR_URL and AUR_ROOT.
start_aur() {
  AUR_ROOT="$tmp/aur"
  mkdir -p "$AUR_ROOT"
  python3 tests/support/aur_server.py --root "$AUR_ROOT" --port 0 "$@" > "$tmp/aur.port" &
  pids+=($!)
  for _ in $(seq 50); do grep -q PORT "$tmp/aur.port" 2>/dev/null && break; sleep 0.1; done
  AUR_URL="http://127.0.0.1:$(awk '/PORT/ {print $2}' "$tmp/aur.port")"
}

# aur_stat KEY: one counter of the AUR server's GET /__stats (rpc_requests, search_requests,
# srcinfo_requests, names_asked).
aur_stat() { curl -sf "$AUR_URL/__stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
aur_requests() { aur_stat rpc_requests; }

# push_pkgbase NAME DIR: publishes DIR (PKGBUILD; .SRCINFO generated) as an AUR pkgbase, with
# scripts/push-fixture.sh as the tests and the demo do.
push_pkgbase() {
  local name=$1 dir=$2 stage="$tmp/push-$1"
  mkdir -p "$stage"
  cp "$dir"/* "$stage/"
  chmod -R a+rwX "$stage"
  (cd "$stage" && su nobody -s /bin/sh -c 'makepkg --printsrcinfo' > .SRCINFO)
  bash "$root/scripts/push-fixture.sh" "$AUR_ROOT" "$name" "$stage"
}

# start_s3: moto on loopback; sets S3_URL, S3_PORT and an s3cmd config in $tmp/s3cfg.
start_s3() {
  S3_PORT=$(free_port)
  moto_server -H 127.0.0.1 -p "$S3_PORT" > "$tmp/moto.log" 2>&1 &
  pids+=($!)
  S3_URL="http://127.0.0.1:$S3_PORT"
  for _ in $(seq 100); do curl -s "$S3_URL" > /dev/null && break; sleep 0.1; done
  export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
  cat > "$tmp/s3cfg" <<CFG
[default]
access_key = bench
secret_key = bench
host_base = 127.0.0.1:$S3_PORT
host_bucket = 127.0.0.1:$S3_PORT
use_https = False
signature_v2 = False
bucket_location = us-east-1
CFG
}

make_bucket() { s3cmd -c "$tmp/s3cfg" mb "s3://$1" > /dev/null; }

# seconds CMD...: runs CMD, prints its wall time in seconds (3 decimals) on stdout.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" > "$tmp/last.out" 2> "$tmp/last.err" || { cat "$tmp/last.out" "$tmp/last.err" >&2; return 1; }
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.3f}')"
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

machine() { echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), load $(cut -d' ' -f1-3 /proc/loadavg)"; }

# start_wan [RTT_MS] [MBIT]: bench/wan_proxy.py in front of moto (start_s3 first): sets WAN_URL
# and an s3cmd config for it in $tmp/s3cfg-wan.
start_wan() {
  python3 bench/wan_proxy.py --upstream "127.0.0.1:$S3_PORT" --port 0 --rtt-ms "${1:-30}" --mbit "${2:-200}" \
    > "$tmp/wan.port" &
  pids+=($!)
  for _ in $(seq 50); do grep -q PORT "$tmp/wan.port" 2>/dev/null && break; sleep 0.1; done
  WAN_PORT=$(awk '/PORT/ {print $2}' "$tmp/wan.port")
  WAN_URL="http://127.0.0.1:$WAN_PORT"
  sed "s/127.0.0.1:$S3_PORT/127.0.0.1:$WAN_PORT/" "$tmp/s3cfg" > "$tmp/s3cfg-wan"
}
