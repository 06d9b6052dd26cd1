#!/usr/bin/env bash
# A no-op nightly on a 500-package repository (issue #16): `repoctl build` when nothing changed,
# against an S3 bucket (moto on loopback). Bars: under 2 s, no container started, no object written.
#
#   - 500 listed pkgbases, all locked (repoctl.lock from the stand-in's GET /__synthetic-lock) and
#     published at the AUR's version (tests/support/synth_db.py uploaded as noop.db);
#   - every 10th is a VCS package (`vcs: true`, 50 in all) with `builder.vcs_interval: 1d`, whose
#     last pkgver() check the work directory records an hour ago, as the previous nightly leaves it
#     (WORK/vcs-checks.json is written here: the synthetic pkgbases have no sources to probe);
#   - one untimed warm-up run fills the work directory's caches (.SRCINFO files, the official sync
#     databases) and writes the status object and the page, which a repository published by repoctl
#     has; then 5 timed runs.
# Counted per timed run: containers created (Docker's event stream over the run's time, any
# container: run it on a quiet machine), and write requests moto logged (PUT, POST, DELETE).
# Exits 1 when a bar is missed. Needs Docker and the test image (bash scripts/testbed.sh), s3cmd.
source "$(dirname "$0")/lib.sh"
command -v s3cmd > /dev/null || { apt-get install -y -qq s3cmd > /dev/null || sudo apt-get install -y -qq s3cmd > /dev/null; }
image=${BENCH_IMAGE:-repoctl-testbed:latest}
count=500
bin=$(repoctl_bin)
start_aur --synthetic "$count"
start_s3
make_bucket noop
mkdir -p "$tmp/site" "$tmp/work"
python3 tests/support/synth_db.py --count "$count" --outdated-every 0 "$tmp/site/noop.db"
s3cmd -c "$tmp/s3cfg" put -q "$tmp/site/noop.db" "$tmp/site/noop.db.tar.gz" s3://noop/
{
  echo "name: noop"
  echo "s3: {bucket: noop, endpoint: '$S3_URL'}"
  echo "builder:"
  echo "  image: $image"
  echo "  vcs_interval: 1d"
  echo "packages:"
  for i in $(seq 0 $((count - 1))); do
    if (( i % 10 == 0 )); then printf '  - {name: synth-%05d, vcs: true}\n' "$i"; else printf '  - synth-%05d\n' "$i"; fi
  done
} > "$tmp/site/repo.yaml"
curl -sf "$AUR_URL/__synthetic-lock" > "$tmp/site/repoctl.lock"
python3 - "$tmp/work/vcs-checks.json" "$count" <<'PY'
import json, sys, time
path, count = sys.argv[1], int(sys.argv[2])
checked = int(time.time()) - 3600
json.dump({f"synth-{i:05d}": {"checked": checked, "upstream": "1.0-1"} for i in range(0, count, 10)}, open(path, "w"))
PY
export AUR_LOCATION=$AUR_URL

# run: one `repoctl build`; sets wall (s), containers (created during it) and writes (moto).
run() {
  local start end since until status=0 lines
  lines=$(wc -l < "$tmp/moto.log")
  since=$(date +%s.%N)
  start=$since
  REPOCTL_WORK_DIR=$tmp/work "$bin" build --no-progress --config "$tmp/site/repo.yaml" \
    > "$tmp/last.out" 2> "$tmp/last.err" || status=$?
  end=$(date +%s.%N)
  if (( status != 0 )); then
    echo "noop-500: FAILED: repoctl build exited with $status; the end of its output:" >&2
    tail -n 30 "$tmp/last.out" "$tmp/last.err" >&2
    exit 1
  fi
  until=$(python3 -c "print(f'{$end + 0.5:.3f}')")
  sleep 1
  containers=$(docker events --since "$since" --until "$until" --filter type=container --filter event=create \
    --format '{{.ID}}' | wc -l)
  writes=$(tail -n +"$((lines + 1))" "$tmp/moto.log" | grep -cE '"(PUT|POST|DELETE) ' || true)
  wall=$(python3 -c "print(f'{$end - $start:.3f}')")
}

echo "machine: $(machine), $(docker version --format 'Docker {{.Server.Version}}' 2>/dev/null || echo 'Docker ?')"
echo "date: $(date), at $(git rev-parse --short HEAD)"
run
echo "warm-up run (untimed): ${wall} s, ${containers} container(s) created, ${writes} write request(s)"
grep -q "nothing to do" "$tmp/last.out" || { echo "noop-500: the warm-up run was not a no-op:" >&2; cat "$tmp/last.out" >&2; exit 1; }

times=() created=() written=()
for _ in 1 2 3 4 5; do
  run
  times+=("$wall") created+=("$containers") written+=("$writes")
done
missed=()
worst=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)
python3 -c "import sys; sys.exit(0 if $worst < 2 else 1)" || missed+=("slowest run $worst s (bar < 2 s)")
for c in "${created[@]}"; do (( c == 0 )) || { missed+=("containers created: ${created[*]} (bar 0)"); break; }; done
for w in "${written[@]}"; do (( w == 0 )) || { missed+=("write requests: ${written[*]} (bar 0)"); break; }; done
echo "no-op build of $count packages (50 VCS): median $(median "${times[@]}") s over 5 runs (${times[*]}); containers created per run: ${created[*]}; write requests per run: ${written[*]}"
grep -hE "nothing to do|current" "$tmp/last.out" "$tmp/last.err" | sed 's/^/  repoctl: /' || true
deferred=$(grep -c "checked again after vcs_interval" "$tmp/last.out" "$tmp/last.err" | awk -F: '{n += $2} END {print n}')
echo "  VCS packages whose check was not due (plan reason): $deferred of 50"
(( deferred == 50 )) || missed+=("$deferred VCS packages deferred, expected 50")
if (( ${#missed[@]} )); then
  printf 'noop-500: MISSED: %s\n' "${missed[@]}" >&2
  exit 1
fi
echo "noop-500: all bars met"
