#!/usr/bin/env bash
# Splitting a Chaotic-AUR-sized repository over runners (issue #28): 2,600 pkgbases, mostly
# independent, ~200 in chains of 2-6, one dependency component of ~300 (a root library, four
# libraries on it, ~295 dependants); durations lognormal with a median of 90 s, and six builds of
# 1-3 h. For K = 20 runners it prints the makespan `plan --shards 20` plans (waves, by expected
# duration) against the lower bound max(total/K, longest chain), the time the split takes, and
# the count-based split repoctl made before (dependency groups whole, balanced by count).
# Bars (issue #28): makespan <= 1.15 x lower bound, plan < 3 s. Exits 1 when a bar is missed.
#
# The simulation is examples/shards.rs: it calls the same pure functions as `plan --shards`
# (src/plan/waves.rs) on a generated graph, so it needs no Docker, AUR or bucket. The rest of a
# plan of this size (AUR requests, .SRCINFO, the database) is bench/plan-5000.sh's.
# Three graphs (seeds) are drawn; SEEDS="1 2 3" or RUNNERS=K override.
source "$(dirname "$0")/lib.sh"
cargo build --release --locked -q --example shards
target=${CARGO_TARGET_DIR:-target}
[[ $target = /* ]] || target="$root/$target"
echo "machine: $(machine)"
status=0
for seed in ${SEEDS:-28 1 2}; do
  echo "--- seed $seed"
  "$target/release/examples/shards" --runners "${RUNNERS:-20}" --seed "$seed" --pkgbases 2600 || status=1
done
exit $status
