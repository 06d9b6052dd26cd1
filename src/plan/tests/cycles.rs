//! Dependency cycles (issue 24, "a dependency cycle fails the whole run"): a cycle fails its
//! members and what needs them, never the run, and is named on the repo.yaml lines of its
//! listed members (or of the listed packages that pull it in).
use super::*;

/// Check's and plan's diagnostics as a person reads them.
fn diagnostics(listed: &[&str], p: &Plan) -> Vec<String> {
    crate::commands::plan_diagnostics(&config(listed), p).0.iter().map(|d| d.to_string()).collect()
}

/// x -> y -> z -> x, pulled in by the listed `x` and needed by `app`, beside an unrelated
/// `other`: only the cycle and `app` are blocked, and the cycle is named once, on x's line.
#[test]
fn a_cycle_blocks_its_members_and_their_dependants_only() {
    let texts = [
        srcinfo("x", "1-1", &["depends = y"]),
        srcinfo("y", "1-1", &["makedepends = z"]),
        srcinfo("z", "1-1", &["depends = x"]),
        srcinfo("app", "1-1", &["depends = x"]),
        srcinfo("other", "1-1", &[]),
    ];
    let listed = ["other", "x", "app"];
    let p = plan_config(&config(&listed), &MemoryAur::new(&texts), &[], &[]).expect("a cycle is not an error");
    let blocked: Vec<&str> =
        p.packages.iter().filter(|s| s.action == Action::Blocked).map(|s| s.pkgbase.as_str()).collect();
    assert_eq!(blocked, ["x", "y", "z", "app"], "{:?}", actions(&p));
    assert_eq!(p.step("other").unwrap().action, Action::Build);
    assert!(p.step("other").unwrap().problems.is_empty());
    for base in ["x", "y", "z"] {
        let step = p.step(base).unwrap();
        assert_eq!(step.cycle, ["x", "y", "z", "x"], "{step:?}");
        assert_eq!(step.problems.len(), 1, "one problem, the cycle, not `needs y, which cannot be built`: {step:?}");
        assert!(step.problems[0].message.starts_with("dependency cycle: x -> y -> z -> x"), "{step:?}");
    }
    assert!(p.step("app").unwrap().problems[0].message.contains("app needs x, which cannot be built"));
    // Build order: every step after what it needs, outside the cycle.
    let pos = |b: &str| p.packages.iter().position(|s| s.pkgbase == b).unwrap();
    assert!(pos("x") < pos("app") && pos("y") < pos("app") && pos("z") < pos("app"), "{:?}", actions(&p));
    insta::assert_snapshot!("cycle_diagnostics", diagnostics(&listed, &p).join("\n"));
}

/// Every listed member is told on its own line; an unlisted member is not told again.
#[test]
fn a_cycle_is_named_on_the_line_of_each_listed_member() {
    let texts = [
        srcinfo("a", "1-1", &["depends = b"]),
        srcinfo("b", "1-1", &["depends = c"]),
        srcinfo("c", "1-1", &["depends = a"]),
    ];
    let listed = ["c", "a"];
    let p = plan_config(&config(&listed), &MemoryAur::new(&texts), &[], &[]).unwrap();
    let diags = diagnostics(&listed, &p);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(diags[0].starts_with("repo.yaml:3:5: dependency cycle: a -> b -> c -> a"), "{diags:#?}");
    assert!(diags[1].starts_with("repo.yaml:4:5: dependency cycle: a -> b -> c -> a"), "{diags:#?}");
}

/// A cycle of unlisted AUR dependencies is named once, on the line of the first listed
/// package that pulls it in, with every one that does; each of those is told on its own line
/// that it cannot be built.
#[test]
fn an_unlisted_cycle_is_named_once_where_it_is_pulled_in() {
    let texts = [
        srcinfo("app", "1-1", &["depends = liba"]),
        srcinfo("tool", "1-1", &["depends = libb"]),
        srcinfo("liba", "1-1", &["depends = libb"]),
        srcinfo("libb", "1-1", &["depends = liba"]),
    ];
    let listed = ["app", "tool"];
    let p = plan_config(&config(&listed), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(
        actions(&p),
        [a("liba", Action::Blocked), a("libb", Action::Blocked), a("app", Action::Blocked), a("tool", Action::Blocked)]
    );
    let diags = diagnostics(&listed, &p);
    assert_eq!(diags.len(), 3, "{diags:#?}");
    assert!(diags[0].starts_with("repo.yaml:3:5: dependency cycle: liba -> libb -> liba"), "{diags:#?}");
    assert!(diags[0].contains("(liba, libb: AUR dependencies of app, tool)"), "{diags:#?}");
    assert!(diags[1].starts_with("repo.yaml:3:5: app needs liba, which cannot be built"), "{diags:#?}");
    assert!(diags[2].starts_with("repo.yaml:4:5: tool needs libb, which cannot be built"), "{diags:#?}");
}

/// Members that are not one simple cycle (a <-> b, a <-> c) are named as one closed walk along
/// the dependencies, every member in it.
#[test]
fn a_cycle_that_is_no_simple_ring_is_named_as_a_walk_through_every_member() {
    let texts = [
        srcinfo("a", "1-1", &["depends = b", "depends = c"]),
        srcinfo("b", "1-1", &["depends = a"]),
        srcinfo("c", "1-1", &["depends = a"]),
    ];
    let p = plan_config(&config(&["a"]), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(p.step("b").unwrap().cycle, ["a", "b", "a", "c", "a"]);
    // Two cycles apart are two problems, each naming its own.
    let texts = [
        srcinfo("a", "1-1", &["depends = b"]),
        srcinfo("b", "1-1", &["depends = a", "depends = c"]),
        srcinfo("c", "1-1", &["depends = d"]),
        srcinfo("d", "1-1", &["depends = c"]),
    ];
    let p = plan_config(&config(&["a"]), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(p.step("a").unwrap().cycle, ["a", "b", "a"]);
    assert_eq!(p.step("d").unwrap().cycle, ["c", "d", "c"]);
    assert_eq!(actions(&p).iter().filter(|(_, a)| *a == Action::Blocked).count(), 4);
}

/// A cycle through `provides`: app needs `engine`, which only engine-git provides, and
/// engine-git needs `frontend`, which only app provides.
#[test]
fn a_cycle_through_provides_is_a_cycle_too() {
    let texts = [
        srcinfo("app", "1-1", &["depends = engine", "provides = frontend"]),
        srcinfo("engine-git", "r1-1", &["provides = engine", "depends = frontend"]),
        srcinfo("other", "1-1", &[]),
    ];
    let p = plan_config(&config(&["app", "other"]), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(p.step("app").unwrap().cycle, ["app", "engine-git", "app"]);
    assert_eq!(p.step("app").unwrap().action, Action::Blocked);
    assert_eq!(p.step("other").unwrap().action, Action::Build);
}

/// A cycle whose members are all published and none of which is built in this run: pacman
/// installs the published packages (it resolves run-time cycles), so nothing is blocked and
/// the run does not fail; a warning says none of them can be rebuilt. Their pkgver() is not
/// asked: a moved upstream could not be built. Once one of them must be built, the cycle
/// blocks them all (their published versions stay), and what needs them is built against those.
#[test]
fn a_published_cycle_with_nothing_to_build_is_a_warning_and_blocks_once_one_must_be_built() {
    let texts = [
        srcinfo("a-git", "r1-1", &["depends = b"]),
        srcinfo("b", "1-1", &["depends = a-git"]),
        srcinfo("app", "2-1", &["depends = a-git"]),
    ];
    let repo = [entry("a-git", "a-git", "r1-1"), entry("b", "b", "1-1"), entry("app", "app", "1-1")];
    let p = plan_config(&config(&["app", "b"]), &MemoryAur::new(&texts), &repo, &[]).unwrap();
    assert_eq!(actions(&p), [a("a-git", Action::Skip), a("b", Action::Skip), a("app", Action::Build)]);
    assert!(p.with_problems().next().is_none(), "{:?}", p.with_problems().collect::<Vec<_>>());
    assert!(p.step("b").unwrap().warnings[0].contains("dependency cycle: a-git -> b -> a-git"), "{p:?}");
    assert_eq!(p.vcs_candidates().count(), 0, "a member's pkgver() is not asked");
    assert_eq!(p.published_dependencies().keys().collect::<Vec<_>>(), ["a-git", "b"]);

    let texts = [texts[0].clone(), srcinfo("b", "2-1", &["depends = a-git"]), texts[2].clone()];
    let p = plan_config(&config(&["app", "b"]), &MemoryAur::new(&texts), &repo, &[]).unwrap();
    assert_eq!(actions(&p), [a("a-git", Action::Skip), a("b", Action::Blocked), a("app", Action::Build)]);
    assert!(p.step("a-git").unwrap().problems[0].message.starts_with("dependency cycle"));
    // `build b` asks for the same.
    let texts = [texts[0].clone(), srcinfo("b", "1-1", &["depends = a-git"]), texts[2].clone()];
    let p = plan_config(&config(&["app", "b"]), &MemoryAur::new(&texts), &repo, &["b"]).unwrap();
    assert_eq!(p.step("b").unwrap().action, Action::Blocked, "{:?}", actions(&p));
}

/// `check` reads no published repository: a cycle is a problem there even when published.
/// `nocheck` leaves checkdepends out of the graph, which breaks a cycle through them.
#[test]
fn nocheck_leaves_checkdepends_out_of_the_graph() {
    let texts = [srcinfo("app", "1-1", &["checkdepends = testkit"]), srcinfo("testkit", "1-1", &["depends = app"])];
    let p = plan_config(&config(&["app"]), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(actions(&p), [a("app", Action::Blocked), a("testkit", Action::Blocked)]);
    let problem = &p.step("app").unwrap().problems[0];
    assert!(problem.message.starts_with("dependency cycle: app -> testkit -> app"), "{problem:?}");
    assert!(problem.hint.contains("nocheck"), "{problem:?}");
    let p = plan_config(&config(&["{name: app, nocheck: true}"]), &MemoryAur::new(&texts), &[], &[]).unwrap();
    assert_eq!(actions(&p), [a("app", Action::Build)]);
}
