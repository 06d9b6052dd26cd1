#!/usr/bin/env bash
# Planning a 5,000-package repository with 10% of it outdated: wall time (median of 5) and the
# number of AUR RPC requests. The AUR is tests/support/aur_server.py --synthetic on loopback, the
# published database a local directory target written by tests/support/synth_db.py.
source "$(dirname "$0")/lib.sh"
bin=$(repoctl_bin)
start_aur --synthetic 5000
mkdir -p "$tmp/site/repo"
python3 tests/support/synth_db.py --count 5000 --outdated-every 10 "$tmp/site/repo/big.db"
{ echo "name: big"; echo "packages:"; for i in $(seq 0 4999); do printf '  - synth-%05d\n' "$i"; done; } > "$tmp/site/repo.yaml"
export AUR_LOCATION=$AUR_URL REPOCTL_WORK_DIR=$tmp/work
times=()
for run in 1 2 3 4 5; do
  before=$(aur_requests)
  times+=("$(seconds "$bin" plan --json --config "$tmp/site/repo.yaml")")
  requests=$(( $(aur_requests) - before ))
done
builds=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(sum(s["action"]=="build" for s in p["packages"]))' "$tmp/last.out")
echo "machine: $(machine)"
echo "plan 5000 packages: median $(median "${times[@]}") s over 5 runs (${times[*]}); $requests AUR requests per run; $builds to build"
