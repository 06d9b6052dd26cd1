//! Planning at scale: 5,000 listed packages, 10% outdated, asked of the AUR in batches, their
//! `.SRCINFO` files fetched once and kept while the AUR's LastModified stays.
use crate::support::{Aur, TESTBED_IMAGE, docker, repo_root, repoctl_as_is as repoctl, tempdir, text};
use std::fmt::Write as _;

#[test]
fn planning_five_thousand_packages_takes_a_few_dozen_aur_requests() {
    // The plan reads the official repositories through the builder image.
    let Some(_docker) = docker() else { return };
    const COUNT: usize = 5000;
    let aur = Aur::start_with(COUNT);
    let (_t, dir) = tempdir();
    let repo = dir.join("repo");
    std::fs::create_dir(&repo).unwrap();
    let db = std::process::Command::new("python3")
        .arg(repo_root().join("tests/support/synth_db.py"))
        .args(["--count", &COUNT.to_string(), "--outdated-every", "10", repo.join("big.db").as_str()])
        .output()
        .unwrap();
    assert!(db.status.success(), "{}", text(&db));
    let mut yaml = format!("name: big\nbuilder: {{image: {TESTBED_IMAGE}}}\npackages:\n");
    for i in 0..COUNT {
        let _ = writeln!(yaml, "  - synth-{i:05}");
    }
    let config = dir.join("repo.yaml");
    std::fs::write(&config, yaml).unwrap();
    // Every pkgbase locked at its one commit: the plan reads each .SRCINFO at that commit.
    std::fs::write(dir.join("repoctl.lock"), aur.synthetic_lock()).unwrap();

    let before = aur.rpc_requests();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];
    let out = repoctl(&["plan", "--json", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let requests = aur.rpc_requests() - before;
    assert_eq!(aur.srcinfo_requests(), COUNT as u64, "every pkgbase's .SRCINFO, once");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = plan["packages"].as_array().unwrap();
    let count = |action: &str| steps.iter().filter(|s| s["action"] == action).count();
    assert_eq!((count("build"), count("skip"), count("remove")), (500, 4500, 0));
    assert!(steps.iter().filter(|s| s["action"] == "build").all(|s| s["repo_version"] == "0.9-1"));
    assert!(requests <= 60, "{requests} AUR RPC requests for {COUNT} packages (at most 60 allowed)");
    assert!(requests >= COUNT.div_ceil(200) as u64, "{requests} requests cannot have asked for everything");

    // Nothing changed in the AUR: the same plan from the kept .SRCINFO files, none fetched.
    let again = repoctl(&["plan", "--json", "--config", config.as_str()], &env);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(again.stdout, out.stdout, "the same plan");
    assert_eq!(aur.srcinfo_requests(), COUNT as u64, "no .SRCINFO fetched again");
}
