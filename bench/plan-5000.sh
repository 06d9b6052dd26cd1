#!/usr/bin/env bash
# Planning a 5,000-package repository with 10% of it outdated (issue #12). Since #12 a plan reads
# every pkgbase's .SRCINFO (kept in WORK/srcinfo, keyed by the AUR's LastModified) and the official
# sync databases (through a container of the builder image once, kept in WORK/official and checked
# on every plan; the test image's are file:// inside it, so warm plans start no container), so this
# measures three plans of the same repository:
#   cold     empty work dir: 5,000 .SRCINFO fetches and the sync-database container;
#            wall time, RPC requests, .SRCINFO fetches, peak RSS (/usr/bin/time -v, apt package `time`)
#   warm     nothing changed, same work dir, 5 runs: median wall time, RPC requests and .SRCINFO
#            fetches per run (goal: 0 fetches)
#   touched  the LastModified of 50 pkgbases bumped (aur_server.py's POST /__touch): since issue 14
#            every pkgbase is locked (repoctl.lock from the server's GET /__synthetic-lock) and read
#            at its locked commit, which a push does not change: none fetched again
# Bars (issue #12): every plan under 15 s and under 60 RPC requests. The script exits 1 when a bar
# or an expected count is missed (after printing everything), and at once, with the plan's stderr,
# when a plan exits non-zero.
#
# The AUR is tests/support/aur_server.py --synthetic on loopback, the published database a local
# directory target written by tests/support/synth_db.py. Needs Docker and the test image
# (bash scripts/testbed.sh; BENCH_IMAGE overrides it). The builder image repoctl derives from it is
# made beforehand by one untimed plan in a scratch work dir, as the other benches do.
source "$(dirname "$0")/lib.sh"
image=${BENCH_IMAGE:-repoctl-testbed:latest}
bin=$(repoctl_bin)
timer=()
if [[ -x /usr/bin/time ]]; then timer=(/usr/bin/time -v -o "$tmp/time"); fi
start_aur --synthetic 5000
mkdir -p "$tmp/site/repo"
python3 tests/support/synth_db.py --count 5000 --outdated-every 10 "$tmp/site/repo/big.db"
{
  echo "name: big"
  echo "builder:"
  echo "  image: $image"
  echo "packages:"
  for i in $(seq 0 4999); do printf '  - synth-%05d\n' "$i"; done
} > "$tmp/site/repo.yaml"
# Every pkgbase locked at its one commit (the synthetic pkgbases have no git history to update from).
curl -sf "$AUR_URL/__synthetic-lock" > "$tmp/site/repoctl.lock"
export AUR_LOCATION=$AUR_URL RUST_LOG=repoctl=info

# plan WORK_DIR: one `repoctl plan --json`; sets wall (s), rpc and fetches (counted by the AUR
# server), logged (repoctl's own "N .SRCINFO file(s) fetched, M RPC request(s)" line), rss (MiB,
# or "n/a") and builds. Exits the script, loudly, when the plan fails.
plan() {
  local rpc0 fetch0 start end status=0
  rpc0=$(aur_stat rpc_requests)
  fetch0=$(aur_stat srcinfo_requests)
  start=$(date +%s.%N)
  REPOCTL_WORK_DIR=$1 "${timer[@]}" "$bin" plan --json --config "$tmp/site/repo.yaml" \
    > "$tmp/last.out" 2> "$tmp/last.err" || status=$?
  end=$(date +%s.%N)
  if (( status != 0 )); then
    echo "plan-5000: FAILED: repoctl plan exited with status $status (work dir $1); the end of its stderr:" >&2
    tail -n 40 "$tmp/last.err" >&2
    exit 1
  fi
  wall=$(python3 -c "print(f'{$end - $start:.3f}')")
  rpc=$(( $(aur_stat rpc_requests) - rpc0 ))
  fetches=$(( $(aur_stat srcinfo_requests) - fetch0 ))
  logged=$(grep -o '[0-9]* .SRCINFO file(s) fetched, [0-9]* RPC request(s)' "$tmp/last.err" || echo "no count logged")
  rss=n/a
  if [[ -s $tmp/time ]]; then
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$tmp/time")
  fi
  builds=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(sum(s["action"]=="build" for s in p["packages"]))' "$tmp/last.out")
}

missed=()
# bar VAR NAME VALUE LIMIT: sets VAR to "met" or "MISSED" (VALUE >= LIMIT, also recorded).
bar() {
  if python3 -c "import sys; sys.exit(0 if $3 < $4 else 1)"; then printf -v "$1" met
  else printf -v "$1" MISSED; missed+=("$2: $3 (bar < $4)"); fi
}

echo "machine: $(machine), $(docker version --format 'Docker {{.Server.Version}}' 2>/dev/null || echo 'Docker ?')"
echo "date: $(date)"

# 1. The builder image, untimed: a plan in a scratch work dir (makes it when missing).
plan "$tmp/work-image"

# 2. Cold: an empty work dir.
plan "$tmp/work"
bar v_wall "cold wall time" "$wall" 15
bar v_rpc "cold RPC requests" "$rpc" 60
echo "cold plan (empty work dir): ${wall} s [$v_wall]; ${rpc} RPC requests [$v_rpc]; ${fetches} .SRCINFO fetches; peak RSS ${rss} MiB; ${builds} to build; repoctl logged: ${logged}"
(( builds == 500 )) || missed+=("cold plan: $builds to build, expected 500")

# 3. Warm: nothing changed, 5 runs.
times=() rpcs=() fetched=()
for _ in 1 2 3 4 5; do
  plan "$tmp/work"
  times+=("$wall") rpcs+=("$rpc") fetched+=("$fetches")
done
worst=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)
worst_rpc=$(printf '%s\n' "${rpcs[@]}" | sort -n | tail -1)
bar v_wall "warm wall time (slowest run)" "$worst" 15
bar v_rpc "warm RPC requests (most in a run)" "$worst_rpc" 60
echo "warm no-change rerun: median $(median "${times[@]}") s over 5 runs (${times[*]}) [slowest $worst s: $v_wall]; RPC requests per run: ${rpcs[*]} [$v_rpc]; .SRCINFO fetches per run: ${fetched[*]} (goal 0); repoctl logged: ${logged}"
for f in "${fetched[@]}"; do (( f == 0 )) || { missed+=("warm rerun fetched $f .SRCINFO files, goal 0"); break; }; done

# 4. Touched: 50 pkgbases' LastModified bumped.
touched=$(curl -sf -X POST "$AUR_URL/__touch?count=50" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
plan "$tmp/work"
bar v_wall "touched wall time" "$wall" 15
bar v_rpc "touched RPC requests" "$rpc" 60
echo "rerun after bumping the LastModified of $touched pkgbases: ${wall} s [$v_wall]; ${rpc} RPC requests [$v_rpc]; ${fetches} .SRCINFO fetches (expected 0: the locked commits did not move); repoctl logged: ${logged}"
(( fetches == 0 )) || missed+=("touched rerun fetched $fetches .SRCINFO files, expected 0 (locked)")

if (( ${#missed[@]} )); then
  printf 'plan-5000: MISSED: %s\n' "${missed[@]}" >&2
  exit 1
fi
echo "plan-5000: all bars met"
