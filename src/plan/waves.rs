//! Splitting a run's builds over machines (issue 28): shards balanced by expected build time,
//! and dependency components too large for one machine split into waves.
//!
//! A wave is a set of shards that run at once on separate machines; wave k+1 starts when every
//! shard of wave k is done, and can install what they built. A pkgbase's dependencies that are
//! built in the same run are therefore in an earlier wave, or earlier in the same shard. The
//! wall time of a split (its *makespan*) is the sum over its waves of the longest shard, plus
//! [`WAVE_OVERHEAD_SECS`] for every wave after the first.
//!
//! Everything here is a pure function of [`Builds`] (durations and dependencies, in build
//! order), so it is table-tested and benchmarked (`bench/shards.sh`) without a repository.
//! The scheduling is written by hand: the crates that schedule jobs (e.g. for async runtimes
//! or CI) do not take precedence constraints with barriers, and the heuristic is ~150 lines.
use super::{Plan, Step};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// What a build is expected to take when no successful build of its pkgbase was recorded:
/// 10 minutes. Most AUR builds take a minute or two, so this errs long on purpose: an
/// unknown pkgbase (new in repo.yaml, or a repository published before durations were
/// recorded) is often a large one someone just added, and overestimating it only spreads it
/// onto a less loaded shard and makes `--shards auto` ask for a runner more, while
/// underestimating it can pile several long builds on one runner and run past the budget.
/// With nothing recorded at all, every build weighs the same, and the split balances counts
/// as before durations were known.
pub const DEFAULT_BUILD_SECS: u64 = 600;

/// What starting another wave costs, in seconds, on top of its builds: a runner starting,
/// installing repoctl, downloading the earlier waves' package files (about two minutes on
/// GitHub-hosted runners). A split only uses a wave more when it saves more than this.
pub const WAVE_OVERHEAD_SECS: u64 = 120;

/// The longest a build is expected to take: 6 hours, the limit GitHub Actions puts on a job on
/// a GitHub-hosted runner (`jobs.<id>.timeout-minutes` defaults to 360), so no recorded build
/// took longer. A longer `duration_secs` read from the status object (which whoever can write
/// the bucket can edit) is taken as this ([`Plan::expect_durations`]): one damaged or forged
/// number cannot make a plan ask for every shard there is.
pub const MAX_BUILD_SECS: u64 = 6 * 60 * 60;

/// The builds of a run, in build order: each one's expected duration and the earlier builds
/// it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builds {
    secs: Vec<u64>,
    deps: Vec<Vec<usize>>,
}

impl Builds {
    /// `secs[i]`: build i's expected duration in seconds; `deps[i]`: the indices of the builds
    /// it needs. A dependency must come earlier in build order (`j < i`): one that does not is
    /// a bug in the caller (a plan's build order puts dependencies first) and panics.
    pub fn new(secs: Vec<u64>, mut deps: Vec<Vec<usize>>) -> Builds {
        deps.resize(secs.len(), Vec::new());
        for (i, d) in deps.iter_mut().enumerate() {
            assert!(d.iter().all(|&j| j < i), "build {i} needs a later build: {d:?}");
            d.sort_unstable();
            d.dedup();
        }
        Builds { secs, deps }
    }

    pub fn len(&self) -> usize {
        self.secs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.secs.is_empty()
    }

    /// The builds build `i` needs (indices of earlier builds).
    pub fn deps_of(&self, i: usize) -> &[usize] {
        &self.deps[i]
    }

    /// The sum of every build's expected duration, in seconds.
    pub fn total_secs(&self) -> u64 {
        self.secs.iter().fold(0, |total, &s| total.saturating_add(s))
    }

    /// The longest chain of builds that need each other, in seconds: no split can finish sooner.
    pub fn critical_path_secs(&self) -> u64 {
        let mut finish = vec![0u64; self.len()];
        for i in 0..self.len() {
            let start = self.deps[i].iter().map(|&j| finish[j]).max().unwrap_or(0);
            finish[i] = start.saturating_add(self.secs[i]);
        }
        finish.into_iter().max().unwrap_or(0)
    }

    /// max(total / shards, the critical path), in seconds: what no split over `shards` machines
    /// can beat, waves or not.
    pub fn lower_bound_secs(&self, shards: usize) -> u64 {
        self.total_secs().div_ceil(shards.max(1) as u64).max(self.critical_path_secs())
    }

    /// The same dependencies with every duration `secs` (1: balancing by count, as `plan
    /// --shards` did before durations were recorded).
    pub fn with_uniform_secs(&self, secs: u64) -> Builds {
        Builds { secs: vec![secs; self.len()], deps: self.deps.clone() }
    }

    /// Weakly connected components: for each build, the index of its component's first build.
    fn components(&self) -> Vec<usize> {
        let mut parent: Vec<usize> = (0..self.len()).collect();
        fn find(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for i in 0..self.len() {
            for &j in &self.deps[i] {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
        (0..self.len()).map(|i| find(&mut parent, i)).collect()
    }
}

/// A split: waves of shards of build indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// wave -> shard -> build indices, each shard in build order. No shard or wave is empty;
    /// there are no waves when there is nothing to build.
    pub waves: Vec<Vec<Vec<usize>>>,
    /// The expected wall time, in seconds: each wave's longest shard, summed, plus
    /// [`WAVE_OVERHEAD_SECS`] per wave after the first.
    pub makespan_secs: u64,
}

impl Split {
    /// The makespan of `waves` with the durations of `builds` ([`Split::makespan_secs`]).
    pub fn of(builds: &Builds, waves: Vec<Vec<Vec<usize>>>) -> Split {
        let add = |a: u64, b: u64| a.saturating_add(b);
        let heights = waves.iter().map(|w| w.iter().map(|s| s.iter().map(|&i| builds.secs[i]).fold(0, add)));
        let sum: u64 = heights.map(|h| h.max().unwrap_or(0)).fold(0, add);
        let overhead = WAVE_OVERHEAD_SECS.saturating_mul(waves.len().saturating_sub(1) as u64);
        Split { waves, makespan_secs: sum.saturating_add(overhead) }
    }
}

/// One wave: every dependency component whole on one shard, in build order, the longest
/// (by expected duration) first onto the least loaded shard (LPT). At most `shards` shards.
pub fn whole_components(builds: &Builds, shards: usize) -> Split {
    let comp = builds.components();
    let units = Units::grouped(builds, |i| comp[i]);
    let mut slots = Slots::new(1, shards);
    for u in units.by_duration() {
        slots.place_in(0, u, units.secs[u]);
    }
    Split::of(builds, slots.into_waves(&units))
}

/// The split with the least expected makespan that this module finds over at most `shards`
/// machines: [`whole_components`] (one wave), or waves made by [`layered`] with components
/// larger than a quarter, half or all of the lower bound split; ties go to fewer waves.
pub fn split(builds: &Builds, shards: usize) -> Split {
    let bound = builds.lower_bound_secs(shards);
    let mut best = whole_components(builds, shards);
    for threshold in [bound / 4, bound / 2, bound] {
        let candidate = layered(builds, shards, threshold);
        if candidate.makespan_secs < best.makespan_secs {
            best = candidate;
        }
    }
    best
}

/// Waves: a dependency component whose builds take at most `threshold` seconds in all stays
/// whole on one shard and may go in any wave; a larger one is cut into chains (a build that is
/// its dependency's only dependant and needs nothing else stays with it, since splitting a chain
/// gains nothing), each chain in the wave after the last of the chains it needs. Chains are
/// placed longest first, each onto the least loaded shard of its wave; then the whole
/// components, longest first, each where it leaves the most room: onto the shard with the
/// most idle time before its wave's longest shard ends, which grows a wave only when no shard
/// anywhere has room for it.
pub fn layered(builds: &Builds, shards: usize, threshold: u64) -> Split {
    let comp = builds.components();
    let mut comp_secs = vec![0u64; builds.len()];
    for i in 0..builds.len() {
        comp_secs[comp[i]] = comp_secs[comp[i]].saturating_add(builds.secs[i]);
    }
    let mut dependants = vec![0usize; builds.len()];
    for d in builds.deps.iter().flatten() {
        dependants[*d] += 1;
    }
    // A chain continues through a build that needs exactly one build, which nothing else needs.
    let mut head: Vec<usize> = (0..builds.len()).collect();
    for i in 0..builds.len() {
        if let [only] = builds.deps[i][..]
            && dependants[only] == 1
            && comp_secs[comp[i]] > threshold
        {
            head[i] = head[only];
        }
    }
    let units = Units::grouped(builds, |i| if comp_secs[comp[i]] <= threshold { comp[i] } else { head[i] });
    let waves = units.levels(builds, |u| comp_secs[comp[units.members[u][0]]] > threshold);
    let count = waves.iter().flatten().max().map_or(1, |w| w + 1);
    let mut slots = Slots::new(count, shards);
    let (fixed, free): (Vec<usize>, Vec<usize>) = units.by_duration().partition(|&u| waves[u].is_some());
    for u in fixed {
        slots.place_in(waves[u].unwrap_or(0), u, units.secs[u]);
    }
    for u in free {
        slots.place_with_most_room(u, units.secs[u]);
    }
    Split::of(builds, slots.into_waves(&units))
}

/// Builds grouped into units that are placed whole (a component, or a chain).
struct Units {
    /// unit -> its builds, in build order.
    members: Vec<Vec<usize>>,
    /// unit -> the sum of its builds' durations.
    secs: Vec<u64>,
    /// build -> its unit.
    unit_of: Vec<usize>,
}

impl Units {
    /// Groups builds by `key` (a build index standing for the group), in build order.
    fn grouped(builds: &Builds, key: impl Fn(usize) -> usize) -> Units {
        let mut id = vec![usize::MAX; builds.len()];
        let mut units = Units { members: Vec::new(), secs: Vec::new(), unit_of: vec![0; builds.len()] };
        for i in 0..builds.len() {
            let k = key(i);
            if id[k] == usize::MAX {
                id[k] = units.members.len();
                units.members.push(Vec::new());
                units.secs.push(0);
            }
            units.members[id[k]].push(i);
            units.secs[id[k]] = units.secs[id[k]].saturating_add(builds.secs[i]);
            units.unit_of[i] = id[k];
        }
        units
    }

    /// Unit indices, longest first; ties in build order.
    fn by_duration(&self) -> impl Iterator<Item = usize> + use<> {
        let mut order: Vec<usize> = (0..self.members.len()).collect();
        order.sort_by_key(|&u| Reverse(self.secs[u]));
        order.into_iter()
    }

    /// For each unit that `split` says is cut: its wave, one after the latest wave of the
    /// units it needs (0 when it needs none). None for the others.
    fn levels(&self, builds: &Builds, split: impl Fn(usize) -> bool) -> Vec<Option<usize>> {
        let mut level: Vec<Option<usize>> = vec![None; self.members.len()];
        // Build order is a topological order, and a unit's first build comes before the rest.
        for i in 0..builds.len() {
            let u = self.unit_of[i];
            if !split(u) {
                continue;
            }
            let after = builds.deps[i].iter().map(|&j| self.unit_of[j]).filter(|&d| d != u);
            let needed = after.filter_map(|d| level[d]).map(|l| l + 1).max().unwrap_or(0);
            level[u] = Some(level[u].unwrap_or(0).max(needed));
        }
        level
    }
}

/// Shards of waves being filled: each wave's shards in a min-heap by load.
struct Slots {
    /// wave -> (load in seconds, shard) min-heap.
    loads: Vec<BinaryHeap<Reverse<(u64, usize)>>>,
    /// wave -> its longest shard's load.
    heights: Vec<u64>,
    /// (wave, shard) -> units placed there.
    placed: Vec<Vec<Vec<usize>>>,
}

impl Slots {
    fn new(waves: usize, shards: usize) -> Slots {
        let shards = shards.max(1);
        Slots {
            loads: (0..waves).map(|_| (0..shards).map(|s| Reverse((0, s))).collect()).collect(),
            heights: vec![0; waves],
            placed: vec![vec![Vec::new(); shards]; waves],
        }
    }

    /// Puts `unit` on the least loaded shard of `wave` (ties: the lowest shard).
    fn place_in(&mut self, wave: usize, unit: usize, secs: u64) {
        let Some(Reverse((load, shard))) = self.loads[wave].pop() else { return };
        let load = load.saturating_add(secs);
        self.loads[wave].push(Reverse((load, shard)));
        self.heights[wave] = self.heights[wave].max(load);
        self.placed[wave][shard].push(unit);
    }

    /// Puts `unit` in the wave whose least loaded shard is furthest below the wave's longest
    /// (ties: the less loaded, then the earlier wave).
    fn place_with_most_room(&mut self, unit: usize, secs: u64) {
        let room = |w: usize| {
            let Reverse((load, _)) = self.loads[w].peek().copied().unwrap_or(Reverse((0, 0)));
            (Reverse(self.heights[w] - load), load, w)
        };
        let Some(wave) = (0..self.loads.len()).min_by_key(|&w| room(w)) else { return };
        self.place_in(wave, unit, secs);
    }

    /// The builds of every non-empty shard, in build order, wave by wave; empty waves dropped.
    fn into_waves(self, units: &Units) -> Vec<Vec<Vec<usize>>> {
        let shard = |placed: Vec<usize>| {
            let mut builds: Vec<usize> = placed.into_iter().flat_map(|u| units.members[u].iter().copied()).collect();
            builds.sort_unstable();
            builds
        };
        let wave = |w: Vec<Vec<usize>>| w.into_iter().filter(|s| !s.is_empty()).map(shard).collect::<Vec<_>>();
        self.placed.into_iter().map(wave).filter(|w| !w.is_empty()).collect()
    }
}

/// The smallest number of shards, from 1 to `max`, whose [`split`] is expected to take at most
/// `budget_secs`, with that split. Errors ([`NoFit`]): no number up to `max` fits.
pub fn fit(builds: &Builds, budget_secs: u64, max: usize) -> Result<(usize, Split), NoFit> {
    let critical = builds.critical_path_secs();
    let least = usize::try_from(builds.total_secs().div_ceil(budget_secs.max(1))).unwrap_or(usize::MAX).max(1);
    let mut closest: Option<(usize, Split)> = None;
    if critical <= budget_secs {
        for n in least..=max {
            let candidate = split(builds, n);
            if candidate.makespan_secs <= budget_secs {
                return Ok((n, candidate));
            }
            if closest.as_ref().is_none_or(|(_, c)| candidate.makespan_secs < c.makespan_secs) {
                closest = Some((n, candidate));
            }
        }
    }
    let closest = closest.unwrap_or_else(|| (max, split(builds, max)));
    Err(NoFit {
        budget_secs,
        critical_path_secs: critical,
        max,
        shards: closest.0,
        makespan_secs: closest.1.makespan_secs,
    })
}

/// No number of shards up to a maximum fits a time budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no split into at most {max} shards is expected to finish within {budget}: {why}",
    budget = human(*budget_secs),
    why = self.why()
)]
pub struct NoFit {
    pub budget_secs: u64,
    /// The longest chain of builds that need each other ([`Builds::critical_path_secs`]).
    pub critical_path_secs: u64,
    /// The most shards tried.
    pub max: usize,
    /// The number of shards that came closest, and its expected makespan.
    pub shards: usize,
    pub makespan_secs: u64,
}

impl NoFit {
    /// What to do about it: the budget that would fit, and where the expectations come from.
    pub fn hint(&self) -> String {
        let needed = self.critical_path_secs.max(self.makespan_secs).div_ceil(60).saturating_mul(60);
        format!(
            "raise --budget to {} or more, or build part of the packages per run (`repoctl build PKG...`); \
             a build is expected to take as long as its last successful build (`expected_secs` in `plan --json`)",
            human(needed)
        )
    }

    fn why(&self) -> String {
        if self.critical_path_secs > self.budget_secs {
            format!(
                "the longest chain of builds that need each other is expected to take {} alone",
                human(self.critical_path_secs)
            )
        } else {
            format!("the closest is {} shards, expected to take {}", self.shards, human(self.makespan_secs))
        }
    }
}

/// `1h30m`, `45s`, `0s` ([`crate::config::human_duration`]).
pub fn human(secs: u64) -> String {
    crate::config::human_duration(secs)
}

/// Where a build's expected duration comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpectedFrom {
    /// The last successful build of the pkgbase, as the status object recorded it.
    LastBuild,
    /// None was recorded: [`DEFAULT_BUILD_SECS`].
    Default,
}

/// A plan's builds split over machines, by pkgbase ([`Plan::schedule`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Schedule {
    /// The builds in one wave, every dependency component whole on one shard (what `plan
    /// --shards` gave before waves; equal to `waves[0]` when one wave suffices).
    #[serde(skip)]
    pub shards: Vec<Vec<String>>,
    /// wave -> shard -> pkgbases in build order.
    #[serde(skip)]
    pub waves: Vec<Vec<Vec<String>>>,
    /// How many machines a wave may use (the `N` of `--shards N`, or the one `auto` chose).
    pub max_shards: usize,
    /// The expected wall time of `waves`, in seconds ([`Split::makespan_secs`]).
    pub expected_secs: u64,
    /// What no split over `max_shards` machines can beat ([`Builds::lower_bound_secs`]).
    pub lower_bound_secs: u64,
    /// The longest chain of builds that need each other, in seconds.
    pub critical_path_secs: u64,
    /// What a build with no recorded duration is expected to take ([`DEFAULT_BUILD_SECS`]).
    pub default_build_secs: u64,
    /// Builds expected to take [`DEFAULT_BUILD_SECS`] because none of theirs was recorded.
    pub unknown: Vec<String>,
}

impl Plan {
    /// Sets every build's expected duration ([`Step::expected_secs`]): `recorded`'s (pkgbase ->
    /// seconds its last successful build took; at most [`MAX_BUILD_SECS`]), else
    /// [`DEFAULT_BUILD_SECS`]. Other steps get none.
    pub fn expect_durations(&mut self, recorded: &BTreeMap<String, u64>) {
        for step in &mut self.packages {
            let known = recorded.get(&step.pkgbase).map(|&secs| secs.min(MAX_BUILD_SECS));
            (step.expected_secs, step.expected_from) = match (step.action, known) {
                (super::Action::Build, Some(secs)) => (Some(secs), Some(ExpectedFrom::LastBuild)),
                (super::Action::Build, None) => (Some(DEFAULT_BUILD_SECS), Some(ExpectedFrom::Default)),
                _ => (None, None),
            };
        }
    }

    /// The builds, in build order, as [`Builds`]: durations from [`Step::expected_secs`]
    /// ([`DEFAULT_BUILD_SECS`] when unset), dependencies among the builds.
    fn builds(&self) -> (Vec<&Step>, Builds) {
        let steps: Vec<&Step> = self.to_build().collect();
        let pos: HashMap<&str, usize> = steps.iter().enumerate().map(|(i, s)| (s.pkgbase.as_str(), i)).collect();
        let secs = steps.iter().map(|s| s.expected_secs.unwrap_or(DEFAULT_BUILD_SECS)).collect();
        let deps = steps.iter().enumerate().map(|(i, s)| {
            // Build order puts dependencies first; one that is not (cannot happen) is left out
            // rather than trusted.
            s.depends_on.iter().filter_map(|d| pos.get(d.as_str()).copied()).filter(|&j| j < i).collect()
        });
        let deps = deps.collect();
        (steps, Builds::new(secs, deps))
    }

    /// The builds split into at most `n` shards for separate machines in one wave: pkgbases
    /// that depend on each other (directly or through other builds) stay in one shard, in
    /// build order; the longest groups (by expected duration) are placed first, each on the
    /// least loaded shard. Empty shards are left out, so there are none when nothing is to be
    /// built.
    pub fn shards(&self, n: usize) -> Vec<Vec<String>> {
        let (steps, builds) = self.builds();
        names(&steps, whole_components(&builds, n).waves).into_iter().next().unwrap_or_default()
    }

    /// The builds split into waves of at most `n` shards ([`split`]).
    pub fn schedule(&self, n: usize) -> Schedule {
        let (steps, builds) = self.builds();
        let split = split(&builds, n);
        self.schedule_of(&steps, &builds, n, split)
    }

    /// The fewest shards (up to `max`) whose waves are expected to take at most `budget_secs`
    /// ([`fit`]). Errors: none does ([`NoFit`]).
    pub fn schedule_within(&self, budget_secs: u64, max: usize) -> Result<Schedule, NoFit> {
        let (steps, builds) = self.builds();
        let (n, split) = fit(&builds, budget_secs, max)?;
        Ok(self.schedule_of(&steps, &builds, n, split))
    }

    fn schedule_of(&self, steps: &[&Step], builds: &Builds, n: usize, split: Split) -> Schedule {
        let unknown = steps.iter().filter(|s| s.expected_from != Some(ExpectedFrom::LastBuild));
        Schedule {
            shards: names(steps, whole_components(builds, n).waves).into_iter().next().unwrap_or_default(),
            waves: names(steps, split.waves),
            max_shards: n,
            expected_secs: split.makespan_secs,
            lower_bound_secs: builds.lower_bound_secs(n),
            critical_path_secs: builds.critical_path_secs(),
            default_build_secs: DEFAULT_BUILD_SECS,
            unknown: unknown.map(|s| s.pkgbase.clone()).collect(),
        }
    }
}

/// Build indices to pkgbases.
fn names(steps: &[&Step], waves: Vec<Vec<Vec<usize>>>) -> Vec<Vec<Vec<String>>> {
    let shard = |s: Vec<usize>| s.into_iter().map(|i| steps[i].pkgbase.clone()).collect();
    waves.into_iter().map(|w| w.into_iter().map(shard).collect()).collect()
}
