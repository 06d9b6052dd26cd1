#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS (default 600) each, one after another,
# niced, and prints one result line per target (runs, corpus size, crashes). The toolchain is
# stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags. Needs: cargo install cargo-fuzz.
# Usage: bench/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-600}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config sync_db rpc artifacts pgp_key)
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O >/dev/null
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="$(mktemp)"
  status=0
  nice -n 19 cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 \
    > "$log" 2>&1 || status=$?
  runs=$(grep -oE '#[0-9]+' "$log" | tail -1 | tr -d '#')
  crashes=$(find "artifacts/$t" -type f | wc -l)
  echo "$t: ${secs}s, ${runs:-0} runs, corpus $(find "corpus/$t" -type f | wc -l) inputs, $crashes crash file(s), exit $status"
  rm -f "$log"
done
