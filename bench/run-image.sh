#!/usr/bin/env bash
# The run's "image refresh" phase (issue #16): one-package builds (tests/fixtures/aur/hello) on
# the test image, `--no-publish --out DIR` so every run builds. One warm-up run first (makes the
# builder image and, since #16, the synced image), then RUNS timed runs (default 3). Prints the
# phase's duration from each run's job summary (the Gantt bar "image refresh (X s)") and the
# run's wall time, with medians.
# REPOCTL_BIN=path uses that binary instead of a release build (to compare two commits).
# Needs: scripts/testbed.sh (the image).
source "$(dirname "$0")/lib.sh"
bin=${REPOCTL_BIN:-$(repoctl_bin)}
runs=${RUNS:-3}
start_aur
push_pkgbase hello tests/fixtures/aur/hello
export AUR_LOCATION=$AUR_URL REPOCTL_WORK_DIR=$tmp/work
printf 'name: bench\nbuilder:\n  image: repoctl-testbed:latest\npackages: [hello]\n' > "$tmp/repo.yaml"
"$bin" update --config "$tmp/repo.yaml" > /dev/null 2>&1

one_run() { # one_run N: a build with its job summary in $tmp/summary-N.md
  GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$tmp/summary-$1.md \
    "$bin" build --no-progress --no-publish --out "$tmp/out-$1" --config "$tmp/repo.yaml"
}
seconds one_run 0 > /dev/null
phase=() wall=()
for n in $(seq "$runs"); do
  wall+=("$(seconds one_run "$n")")
  phase+=("$(sed -n 's/.*image refresh (\([0-9.]*\)s).*/\1/p' "$tmp/summary-$n.md" | head -1)")
done
echo "machine: $(machine)"
echo "image refresh  median $(median "${phase[@]}") s (${phase[*]})"
echo "whole build    median $(median "${wall[@]}") s (${wall[*]})"
