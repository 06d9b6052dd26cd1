//! `bench/shards.sh`'s simulation (issue 28): a Chaotic-AUR-sized repository of 2,600
//! pkgbases, split over K runners by `plan --shards` (waves balanced by expected duration)
//! and by the count-based split repoctl had before, against the lower bound
//! max(total / K, longest dependency chain).
//!
//! An example rather than a subcommand: it drives the same pure functions `plan --shards`
//! calls ([`repoctl::plan::waves`]) on a synthetic dependency graph, needs no AUR, Docker or
//! bucket, and has no place in the tool users run. The rest of a plan of that size (AUR
//! requests, .SRCINFO, the database) is what `bench/plan-5000.sh` measures.
//!
//! Usage: `cargo run --release --example shards -- [--runners K] [--seed S] [--pkgbases N]`.
//! Prints one `key: value` line per measurement, and exits 1 when a bar is missed.
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use repoctl::plan::waves::{Builds, Split, fit, human, split, whole_components};
use std::time::Instant;

/// What `plan` may take for the whole split, and how far above the lower bound it may be.
const PLAN_BAR_SECS: f64 = 3.0;
const MAKESPAN_BAR: f64 = 1.15;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        let at = args.iter().position(|a| a == name);
        at.and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
    };
    let (runners, seed, count) = (arg("--runners", 20) as usize, arg("--seed", 28), arg("--pkgbases", 2600) as usize);
    let mut rng = StdRng::seed_from_u64(seed);
    let (builds, shape) = repository(&mut rng, count);
    let total = builds.total_secs();
    let bound = builds.lower_bound_secs(runners);

    let started = Instant::now();
    let planned = split(&builds, runners);
    let plan_secs = started.elapsed().as_secs_f64();
    let count_based = Split::of(&builds, whole_components(&builds.with_uniform_secs(1), runners).waves);
    let by_time_one_wave = whole_components(&builds, runners);

    println!("pkgbases: {count} ({shape})");
    println!("runners (K): {runners}");
    println!("total build time: {} ({total} s)", human(total));
    println!("longest dependency chain: {}", human(builds.critical_path_secs()));
    println!("lower bound max(total/K, longest chain): {} ({bound} s)", human(bound));
    let ratio = |s: &Split| s.makespan_secs as f64 / bound as f64;
    let waves = planned.waves.len();
    println!(
        "planned (waves, by duration): {} ({} s) in {waves} wave(s), {:.3} x lower bound",
        human(planned.makespan_secs),
        planned.makespan_secs,
        ratio(&planned)
    );
    println!(
        "one wave, by duration: {} ({:.3} x lower bound)",
        human(by_time_one_wave.makespan_secs),
        ratio(&by_time_one_wave)
    );
    println!("count-based (before): {} ({:.3} x lower bound)", human(count_based.makespan_secs), ratio(&count_based));
    println!("plan time (split): {plan_secs:.3} s");
    // `--shards auto --budget B` with B the planned makespan rounded up to the half hour: the
    // fewest shards that fit, and what finding them costs (it tries each N from total/B up).
    let budget = planned.makespan_secs.div_ceil(1800) * 1800;
    let started = Instant::now();
    match fit(&builds, budget, 256) {
        Ok((n, s)) => println!(
            "auto, budget {}: {n} shard(s), {} expected, found in {:.3} s",
            human(budget),
            human(s.makespan_secs),
            started.elapsed().as_secs_f64()
        ),
        Err(e) => println!("auto, budget {}: {e}", human(budget)),
    }
    let met = ratio(&planned) <= MAKESPAN_BAR && plan_secs < PLAN_BAR_SECS;
    println!(
        "bar: makespan <= {MAKESPAN_BAR} x lower bound, plan < {PLAN_BAR_SECS} s: {}",
        if met { "met" } else { "MISSED" }
    );
    if !met {
        std::process::exit(1);
    }
}

/// `count` pkgbases in build order, shaped like the AUR: one component of about 300 (a library
/// a few hundred pkgbases need, some through a second library), about 200 in chains of 2 to 6,
/// the rest independent. Durations: lognormal, median 90 s (sigma 1), and six builds of 1 to 3
/// hours (compilers, browsers). Returns the builds and a one-line description.
fn repository(rng: &mut StdRng, count: usize) -> (Builds, String) {
    let mut g = Graph::default();
    // The large component: a root library, 4 second-level libraries on it, ~295 dependants of
    // one or two of them.
    let root = g.add(lognormal(rng), vec![]);
    let libs: Vec<usize> = (0..4).map(|_| g.add(lognormal(rng), vec![root])).collect();
    for _ in 0..295 {
        let mut needs = vec![if rng.gen_bool(0.3) { root } else { libs[rng.gen_range(0..libs.len())] }];
        if rng.gen_bool(0.2) {
            needs.push(libs[rng.gen_range(0..libs.len())]);
        }
        g.add(lognormal(rng), needs);
    }
    let component = g.secs.len();
    // Chains of 2 to 6.
    let mut chains = 0;
    while g.secs.len() < component + 200 {
        let mut prev = g.add(lognormal(rng), vec![]);
        for _ in 1..rng.gen_range(2..=6) {
            prev = g.add(lognormal(rng), vec![prev]);
        }
        chains += 1;
    }
    let chained = g.secs.len() - component;
    while g.secs.len() < count {
        g.add(lognormal(rng), vec![]);
    }
    // A few very long builds, anywhere.
    for _ in 0..6 {
        let i = rng.gen_range(0..g.secs.len());
        g.secs[i] = rng.gen_range(3600..=10_800);
    }
    let shape = format!(
        "one component of {component}, {chains} chains of {chained} in all, {} independent; 6 builds of 1-3 h",
        count.saturating_sub(component + chained)
    );
    (Builds::new(g.secs, g.deps), shape)
}

/// Builds being generated, in build order.
#[derive(Default)]
struct Graph {
    secs: Vec<u64>,
    deps: Vec<Vec<usize>>,
}

impl Graph {
    fn add(&mut self, secs: u64, needs: Vec<usize>) -> usize {
        self.secs.push(secs);
        self.deps.push(needs);
        self.secs.len() - 1
    }
}

/// A lognormal duration with a median of 90 s and sigma 1, in whole seconds (at least 10).
/// Box-Muller by hand: `rand_distr` is not a dependency, and this is two lines.
fn lognormal(rng: &mut StdRng) -> u64 {
    let (u1, u2): (f64, f64) = (rng.gen_range(f64::MIN_POSITIVE..1.0), rng.gen_range(0.0..1.0));
    let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    ((90f64.ln() + normal).exp() as u64).max(10)
}
