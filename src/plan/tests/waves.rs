//! Splitting builds over machines (issue 28): shards balanced by expected duration, large
//! dependency components split into waves, and the dependency order every split keeps.
use super::*;
use crate::plan::waves::{
    Builds, DEFAULT_BUILD_SECS, ExpectedFrom, MAX_BUILD_SECS, Split, WAVE_OVERHEAD_SECS, fit, layered, split,
    whole_components,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `deps[i]`: the builds build i needs.
fn builds(secs: &[u64], deps: &[&[usize]]) -> Builds {
    Builds::new(secs.to_vec(), deps.iter().map(|d| d.to_vec()).collect())
}

/// The durations of each shard of each wave.
fn loads(b: &[u64], waves: &[Vec<Vec<usize>>]) -> Vec<Vec<u64>> {
    waves.iter().map(|w| w.iter().map(|s| s.iter().map(|&i| b[i]).sum()).collect()).collect()
}

#[test]
fn shards_are_balanced_by_expected_duration_not_by_count() {
    let secs = [7200, 60, 7200, 60];
    let b = builds(&secs, &[]);
    let by_time = whole_components(&b, 2);
    assert_eq!(loads(&secs, &by_time.waves), [[7260, 7260]], "{by_time:?}");
    assert_eq!(by_time.makespan_secs, 7260);
    // What counting builds did: two per shard, both 2-hour builds on the first.
    let by_count = whole_components(&b.with_uniform_secs(1), 2);
    assert_eq!(by_count.waves, [[vec![0, 2], vec![1, 3]]]);
    assert_eq!(Split::of(&b, by_count.waves).makespan_secs, 14_400);
}

#[test]
fn a_library_with_many_dependants_is_built_first_and_its_dependants_spread_over_the_next_wave() {
    // lib (0), twelve dependants (1..=12), and three unrelated builds (13..=15), 10 minutes each.
    let mut deps: Vec<&[usize]> = vec![&[]];
    deps.extend(std::iter::repeat_n(&[0usize][..], 12));
    deps.extend(std::iter::repeat_n(&[][..], 3));
    let secs = vec![600; 16];
    let s = split(&builds(&secs, &deps), 4);
    assert_eq!(s.waves.len(), 2, "{s:?}");
    assert!(s.waves[0].concat().contains(&0) && !s.waves[0].concat().iter().any(|i| (1..=12).contains(i)));
    assert_eq!(s.waves[1].len(), 4, "the dependants use every shard of the second wave: {s:?}");
    // The unrelated builds fill the first wave's idle shards instead of lengthening the second.
    assert_eq!(loads(&secs, &s.waves), [vec![600, 600, 600, 600], vec![1800, 1800, 1800, 1800]]);
    assert_eq!(s.makespan_secs, 600 + 1800 + WAVE_OVERHEAD_SECS);
    // Kept whole, the group would take 13 builds one after another.
    assert_eq!(whole_components(&builds(&secs, &deps), 4).makespan_secs, 13 * 600);
}

#[test]
fn a_chain_stays_on_one_shard_where_splitting_it_gains_nothing() {
    let b = builds(&[600, 600, 600, 600, 60], &[&[], &[0], &[1], &[2], &[]]);
    let s = split(&b, 4);
    assert_eq!(s.waves, [vec![vec![0, 1, 2, 3], vec![4]]], "one wave; the chain whole and in build order");
    // Inside a group that is split, a chain hanging off the library stays on one shard too.
    // lib (0) <- a (1), b (2), c (3), d (4); d <- e (5) <- f (6).
    let b = builds(&[600; 7], &[&[], &[0], &[0], &[0], &[0], &[4], &[5]]);
    let s = layered(&b, 4, 0);
    let second: Vec<&Vec<usize>> = s.waves[1].iter().collect();
    assert!(second.contains(&&vec![4, 5, 6]), "{s:?}");
}

#[test]
fn one_wave_is_kept_when_a_second_would_save_less_than_it_costs() {
    // lib and one dependant: splitting them puts the dependant in a wave of its own.
    let b = builds(&[600, 600, 600], &[&[], &[0], &[]]);
    let s = split(&b, 2);
    assert_eq!(s.waves, [vec![vec![0, 1], vec![2]]]);
}

#[test]
fn the_fewest_shards_that_fit_the_budget_are_chosen_and_none_fitting_says_why() {
    let b = builds(&[600; 10], &[]);
    let (n, s) = fit(&b, 1200, 256).unwrap();
    assert_eq!((n, s.makespan_secs), (5, 1200));
    let (n, _) = fit(&b, 1199, 256).unwrap();
    assert_eq!(n, 10);
    let err = fit(&b, 1000, 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no split into at most 4 shards is expected to finish within 16m40s: the closest is 4 shards, expected to take 30m"
    );
    assert!(err.hint().starts_with("raise --budget to 30m or more"), "{}", err.hint());
    // A chain longer than the budget: no number of shards helps.
    let chain = builds(&[3600, 3600], &[&[], &[0]]);
    let err = fit(&chain, 5400, 256).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no split into at most 256 shards is expected to finish within 1h30m: the longest chain of builds \
         that need each other is expected to take 2h alone"
    );
    assert_eq!(fit(&builds(&[], &[]), 60, 256).unwrap().0, 1, "nothing to build fits any budget");
}

/// A random plan's builds: `n` of them, each needing up to three earlier ones with probability
/// `p`, durations heavy-tailed from 10 s to ~3 h.
fn random_builds(rng: &mut StdRng, n: usize, p: f64) -> Builds {
    let secs: Vec<u64> =
        (0..n).map(|_| if rng.gen_bool(0.05) { rng.gen_range(3600..10_800) } else { rng.gen_range(10..900) }).collect();
    let deps = (0..n).map(|i| {
        let k = if i > 0 && rng.gen_bool(p) { rng.gen_range(1..=3) } else { 0 };
        (0..k).map(|_| rng.gen_range(0..i)).collect()
    });
    Builds::new(secs, deps.collect())
}

#[test]
fn every_split_keeps_dependencies_in_an_earlier_wave_or_earlier_on_the_same_shard() {
    let mut rng = StdRng::seed_from_u64(28);
    for case in 0..300 {
        let n = rng.gen_range(0..120);
        let p = rng.gen_range(0.0..0.9);
        let b = random_builds(&mut rng, n, p);
        let shards = rng.gen_range(1..12);
        let threshold = rng.gen_range(0..20_000);
        for s in [split(&b, shards), whole_components(&b, shards), layered(&b, shards, threshold)] {
            let context = format!("case {case}: {n} builds, {shards} shards: {s:?}");
            // Every build once; no wave over `shards`; no empty shard or wave; shards in build order.
            let mut seen: Vec<usize> = s.waves.iter().flatten().flatten().copied().collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "{context}");
            assert!(s.waves.iter().all(|w| !w.is_empty() && w.len() <= shards), "{context}");
            assert!(s.waves.iter().flatten().all(|sh| !sh.is_empty() && sh.is_sorted()), "{context}");
            // Where each build is: (wave, shard, position).
            let mut at = vec![(0, 0, 0); n];
            for (w, wave) in s.waves.iter().enumerate() {
                for (k, shard) in wave.iter().enumerate() {
                    for (pos, &i) in shard.iter().enumerate() {
                        at[i] = (w, k, pos);
                    }
                }
            }
            for (i, &(w, k, pos)) in at.iter().enumerate() {
                for &d in b.deps_of(i) {
                    let (dw, dk, dpos) = at[d];
                    assert!(dw < w || (dw == w && dk == k && dpos < pos), "{d} before {i}: {context}");
                }
            }
            assert!(s.makespan_secs >= b.lower_bound_secs(shards), "{context}");
            assert_eq!(s.makespan_secs, Split::of(&b, s.waves.clone()).makespan_secs, "{context}");
        }
        assert!(split(&b, shards).makespan_secs <= whole_components(&b, shards).makespan_secs, "case {case}");
    }
}

#[test]
fn a_plans_builds_expect_their_last_recorded_duration_or_the_default() {
    let pkgs = vec![
        aur("app", "app", "1-1", &["lib"]),
        aur("lib", "lib", "1-1", &[]),
        aur("tool", "tool", "1-1", &[]),
        aur("fresh", "fresh", "1-1", &[]),
    ];
    let repo = [entry("fresh", "fresh", "1-1")];
    let mut p = plan(&["app", "tool", "fresh"], pkgs, &repo, &[]).unwrap();
    let recorded = BTreeMap::from([("tool".to_string(), 7200), ("fresh".to_string(), 60)]);
    p.expect_durations(&recorded);
    let expected = |base: &str| (p.step(base).unwrap().expected_secs, p.step(base).unwrap().expected_from);
    assert_eq!(expected("tool"), (Some(7200), Some(ExpectedFrom::LastBuild)));
    assert_eq!(expected("app"), (Some(DEFAULT_BUILD_SECS), Some(ExpectedFrom::Default)));
    assert_eq!(expected("fresh"), (None, None), "only builds are expected to take time");
    let json = serde_json::to_value(&p).unwrap();
    let tool = json["packages"].as_array().unwrap().iter().find(|s| s["pkgbase"] == "tool").unwrap();
    assert_eq!(
        (&tool["expected_secs"], &tool["expected_from"]),
        (&serde_json::json!(7200), &serde_json::json!("last-build"))
    );

    let schedule = p.schedule(2);
    assert_eq!(schedule.shards, [vec!["tool".to_string()], vec!["lib".into(), "app".into()]]);
    assert_eq!(schedule.waves, std::slice::from_ref(&schedule.shards), "one wave suffices");
    assert_eq!((schedule.expected_secs, schedule.lower_bound_secs), (7200, 7200));
    assert_eq!(schedule.unknown, ["lib", "app"]);
    insta::assert_snapshot!("schedule_text", crate::commands::plan::render_schedule(&schedule));
    let within = p.schedule_within(7200, 256).unwrap();
    assert_eq!(within.max_shards, 2);
    assert!(p.schedule_within(3600, 256).is_err(), "tool alone takes two hours");
}

/// Red-team finding: `duration_secs` comes from the status object in the bucket. A huge one
/// (u64::MAX) overflowed the sums here, and made `--shards auto` ask for every shard there is;
/// it is read as at most [`MAX_BUILD_SECS`] (6 h, GitHub's job limit).
#[test]
fn a_recorded_duration_is_read_as_at_most_six_hours_and_sums_saturate() {
    let pkgs = vec![aur("app", "app", "1-1", &["lib"]), aur("lib", "lib", "1-1", &[]), aur("tool", "tool", "1-1", &[])];
    let mut p = plan(&["app", "tool"], pkgs, &[], &[]).unwrap();
    let recorded = BTreeMap::from([("lib".to_string(), u64::MAX), ("app".to_string(), u64::MAX - 1)]);
    p.expect_durations(&recorded);
    assert_eq!(p.step("lib").unwrap().expected_secs, Some(MAX_BUILD_SECS));
    let schedule = p.schedule(4);
    assert_eq!(schedule.critical_path_secs, 2 * MAX_BUILD_SECS, "lib then app");
    let within = p.schedule_within(12 * 3600, 256).unwrap();
    assert_eq!(within.max_shards, 2, "lib then app on one runner, tool on another: {within:?}");

    // Builds made directly (bench, tests) with overflowing durations saturate instead of panicking.
    let b = builds(&[u64::MAX, u64::MAX, 1], &[&[], &[0], &[]]);
    assert_eq!((b.total_secs(), b.critical_path_secs()), (u64::MAX, u64::MAX));
    for shards in [1, 2, 3] {
        assert_eq!(split(&b, shards).makespan_secs, u64::MAX);
        assert_eq!(layered(&b, shards, 0).makespan_secs, u64::MAX);
    }
    assert!(fit(&b, 3600, 256).unwrap_err().hint().contains("raise --budget"));
}

#[test]
fn a_schedule_in_waves_is_printed_wave_by_wave() {
    let mut pkgs = vec![aur("lib", "lib", "1-1", &[])];
    let apps = ["app1", "app2", "app3", "app4"];
    pkgs.extend(apps.iter().map(|a| aur(a, a, "1-1", &["lib"])));
    let mut p = plan(&apps, pkgs, &[], &[]).unwrap();
    p.expect_durations(&apps.iter().map(|a| (a.to_string(), 1800)).collect());
    let schedule = p.schedule(4);
    assert_eq!(schedule.shards, [["lib", "app1", "app2", "app3", "app4"]], "one wave: the group whole");
    assert_eq!(schedule.waves.len(), 2);
    insta::assert_snapshot!("schedule_waves_text", crate::commands::plan::render_schedule(&schedule));
}
