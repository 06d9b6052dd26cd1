//! The AUR as it really lives (issue #12): split siblings with their own dependencies, virtual
//! names that only AUR packages provide, per-architecture dependencies, checkdepends cycles,
//! packages and pkgnames that leave the AUR, and a .SRCINFO that disagrees with its PKGBUILD.
//! Fixtures are in tests/fixtures/aur-life (a .SRCINFO made by `makepkg --printsrcinfo`, see
//! regen-srcinfo.sh; drift-srcinfo-only's is edited by hand on purpose). Every test needs
//! Docker: `plan` and `check` read the official repositories through the builder image.
use crate::support::{Bed, TESTBED_IMAGE, docker, repo_root, repoctl_containers, text};
use serde_json::Value;
use std::process::Output;

impl Bed {
    /// The AUR holding `fixtures`, each (fixture directory, pkgbase).
    fn new(fixtures: &[(&str, &str)]) -> Bed {
        let bed = Bed::empty();
        for (fixture, pkgbase) in fixtures {
            bed.push(fixture, pkgbase);
        }
        bed
    }

    /// Pushes tests/fixtures/aur-life/FIXTURE as a new commit of PKGBASE.
    fn push(&self, fixture: &str, pkgbase: &str) {
        self.aur.push_dir(pkgbase, &repo_root().join("tests/fixtures/aur-life").join(fixture));
    }

    /// Writes repo.yaml with `packages` (YAML list items, one a line, indented by two).
    fn packages(&self, name: &str, packages: &str) {
        let yaml = format!(
            "name: {name}\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\n  jobs: 2\npackages:\n{packages}snapshots:\n  keep: 0\n"
        );
        std::fs::write(&self.config, yaml).unwrap();
    }

    /// `plan --json`, which must exit 0.
    fn plan(&self) -> Plan {
        let out = self.run("plan", &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        Plan(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("plan JSON: {e}\n{}", text(&out))))
    }

    /// Files in the published directory.
    fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = std::fs::read_dir(self.repo())
            .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        files.sort();
        files
    }

    /// How many runs left a build log of PKGBASE (WORK/runs/*/logs/PKGBASE.log).
    fn build_logs(&self, pkgbase: &str) -> usize {
        std::fs::read_dir(self.dir.join("work/runs"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|run| run.path().join("logs").join(format!("{pkgbase}.log")).is_file())
            .count()
    }
}

/// `plan --json` as read by a test.
struct Plan(Value);

impl Plan {
    fn steps(&self) -> &Vec<Value> {
        self.0["packages"].as_array().expect("packages")
    }

    fn order(&self) -> Vec<&str> {
        self.steps().iter().map(|s| s["pkgbase"].as_str().unwrap()).collect()
    }

    fn pos(&self, pkgbase: &str) -> usize {
        self.order().iter().position(|b| *b == pkgbase).unwrap_or_else(|| panic!("{pkgbase} not in {}", self.0))
    }

    fn step(&self, pkgbase: &str) -> &Value {
        &self.steps()[self.pos(pkgbase)]
    }

    fn has(&self, pkgbase: &str) -> bool {
        self.order().contains(&pkgbase)
    }

    fn strings(&self, pkgbase: &str, key: &str) -> Vec<String> {
        self.step(pkgbase)[key]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }
}

fn sorted_names(list: &[(String, String)]) -> Vec<&str> {
    let mut names: Vec<&str> = list.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    names
}

fn both(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Fault 1: only `toolkit-cli` is listed, but its pkgbase also makes `python-toolkit`, which
/// needs the AUR's `python-jsonfive`: that is built first and published, so every pkgname of
/// the pkgbase installs.
#[test]
fn a_split_siblings_aur_dependency_is_built_first_and_published() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("toolkit", "toolkit"), ("python-jsonfive", "python-jsonfive")]);
    bed.packages("siblings", "  - toolkit-cli\n");

    let plan = bed.plan();
    assert!(plan.pos("python-jsonfive") < plan.pos("toolkit"), "{}", plan.0);
    assert_eq!(plan.strings("toolkit", "depends_on"), ["python-jsonfive"], "{}", plan.0);
    let mut pkgnames = plan.strings("toolkit", "pkgnames");
    pkgnames.sort();
    assert_eq!(pkgnames, ["python-toolkit", "toolkit-cli"], "{}", plan.0);

    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(repoctl_containers(), 0, "containers left behind");
    let pacman = bed.pacman("siblings");
    assert_eq!(sorted_names(&pacman.list("siblings")), ["python-jsonfive", "python-toolkit", "toolkit-cli"]);
    // gcc-libs is official (the image's debian-base provides it); this client has only [siblings].
    let out = pacman.run(&["-S", "--noconfirm", "--assume-installed", "gcc-libs", "toolkit-cli", "python-toolkit"]);
    assert!(out.status.success(), "pacman -S failed:\n{}", text(&out));
    assert!(pacman.installed_file("usr/share/python-jsonfive/version").is_file(), "python-jsonfive not pulled in");
    assert!(pacman.installed_file("usr/share/toolkit/python").is_file());
}

/// Fault 2: one pkgname listed; the plan names all eight of its pkgbase's.
#[test]
fn the_plan_names_every_pkgname_of_a_pkgbase() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("octet", "octet")]);
    bed.packages("octet", "  - octet-5\n");
    let plan = bed.plan();
    assert_eq!(plan.order(), ["octet"], "{}", plan.0);
    let expected: Vec<String> = (1..=8).map(|i| format!("octet-{i}")).collect();
    let mut pkgnames = plan.strings("octet", "pkgnames");
    pkgnames.sort();
    assert_eq!(pkgnames, expected, "{}", plan.0);
}

/// Fault 3, one AUR provider: `engine` is only provided by `engine-git`, which is chosen, built
/// first, and installed with `engine-app`.
#[test]
fn a_dependency_only_one_aur_package_provides_is_built_and_installed() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("engine-app", "engine-app"), ("engine-git", "engine-git")]);
    bed.packages("engines", "  - engine-app\n");

    let plan = bed.plan();
    assert!(plan.pos("engine-git") < plan.pos("engine-app"), "{}", plan.0);
    assert_eq!(plan.strings("engine-app", "depends_on"), ["engine-git"], "{}", plan.0);
    let provides_for = plan.strings("engine-git", "provides_for").join(" | ");
    assert!(provides_for.contains("engine") && provides_for.contains("engine-app"), "{}", plan.0);

    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pacman = bed.pacman("engines");
    assert_eq!(sorted_names(&pacman.list("engines")), ["engine-app", "engine-git"]);
    let out = pacman.run(&["-S", "--noconfirm", "engine-app"]);
    assert!(out.status.success(), "pacman -S engine-app failed:\n{}", text(&out));
    assert!(pacman.installed_file("usr/share/engine-git/version").is_file(), "engine-git not pulled in");
}

/// Fault 3, several AUR providers, none listed: a problem on the dependant's line naming the
/// dependency, the dependant and both candidates; check and plan exit 2.
#[test]
fn several_aur_providers_none_listed_is_a_problem() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("engine-app", "engine-app"), ("engine-git", "engine-git"), ("engine-bin", "engine-bin")]);
    bed.packages("engines", "  - engine-app\n");
    // Both answers are run before any assertion so that a failure shows both.
    let outs: Vec<(&str, Output)> = ["check", "plan"].into_iter().map(|c| (c, bed.run(c, &[]))).collect();
    let all: String = outs.iter().map(|(c, out)| format!("=== {c}\n{}\n", text(out))).collect();
    for (command, out) in &outs {
        assert_eq!(out.status.code(), Some(2), "{command}:\n{all}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Line 8 is `  - engine-app`.
        assert!(stderr.contains(&format!("{}:8:", bed.config)), "{command}: not on engine-app's line:\n{all}");
        for name in ["`engine`", "engine-app", "engine-git", "engine-bin"] {
            assert!(stderr.contains(name), "{command}: {name} not named:\n{all}");
        }
    }
}

/// Fault 3, several AUR providers, one listed: it is chosen.
#[test]
fn a_listed_provider_is_chosen_among_several() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("engine-app", "engine-app"), ("engine-git", "engine-git"), ("engine-bin", "engine-bin")]);
    bed.packages("engines", "  - engine-app\n  - engine-bin\n");
    let out = bed.run("check", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan = bed.plan();
    assert!(!plan.has("engine-git"), "{}", plan.0);
    assert!(plan.pos("engine-bin") < plan.pos("engine-app"), "{}", plan.0);
    assert_eq!(plan.strings("engine-app", "depends_on"), ["engine-bin"], "{}", plan.0);
}

/// Fault 3, an official provider: `sh` comes from [core] (debian-base), so the AUR's
/// `busybox-sh` is not pulled in.
#[test]
fn an_officially_provided_name_pulls_in_no_aur_provider() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("shell-app", "shell-app"), ("busybox-sh", "busybox-sh")]);
    bed.packages("shells", "  - shell-app\n");
    let plan = bed.plan();
    assert_eq!(plan.order(), ["shell-app"], "{}", plan.0);
    assert!(plan.strings("shell-app", "depends_on").is_empty(), "{}", plan.0);
}

/// Fault 4: `depends_aarch64 = armonly-lib` is not a dependency on x86_64, though the AUR has
/// armonly-lib (and its RPC answer merges the aarch64 list into Depends).
#[test]
fn another_architectures_dependency_is_left_out() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("arm-app", "arm-app"), ("armonly-lib", "armonly-lib")]);
    bed.packages("arches", "  - arm-app\n");
    let plan = bed.plan();
    assert_eq!(plan.order(), ["arm-app"], "{}", plan.0);
    assert!(plan.strings("arm-app", "depends_on").is_empty(), "{}", plan.0);
}

/// Fault 5: a versioned dependency (`libthing>=1.0`) satisfied by a listed package's versioned
/// provides (`libthing=1.0`) is an edge of the graph.
#[test]
fn a_listed_providers_versioned_provides_is_an_edge() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("thing-app", "thing-app"), ("libthing-git", "libthing-git")]);
    bed.packages("things", "  - thing-app\n  - libthing-git\n");
    let plan = bed.plan();
    assert!(plan.pos("libthing-git") < plan.pos("thing-app"), "{}", plan.0);
    assert_eq!(plan.strings("thing-app", "depends_on"), ["libthing-git"], "{}", plan.0);
}

/// Fault 6: check-app's checkdepends (testkit) needs check-app: a cycle, unless `nocheck: true`
/// leaves checkdepends out of the graph.
#[test]
fn nocheck_breaks_a_checkdepends_cycle() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("check-app", "check-app"), ("testkit", "testkit")]);
    bed.packages("cycles", "  - check-app\n");
    let out = bed.run("plan", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(both(&out).contains("cycle"), "the cycle is not named:\n{}", text(&out));

    bed.packages("cycles", "  - name: check-app\n    nocheck: true\n");
    let plan = bed.plan();
    assert_eq!(plan.order(), ["check-app"], "{}", plan.0);
    assert_eq!(plan.step("check-app")["action"], "build", "{}", plan.0);
    assert!(plan.strings("check-app", "depends_on").is_empty(), "{}", plan.0);
}

/// Fault 7: an unlisted AUR dependency that leaves the AUR stays published while a listed
/// package needs it, and the run says so.
#[test]
fn a_dependency_gone_from_the_aur_is_kept() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("kept-app", "kept-app"), ("kept-lib", "kept-lib")]);
    bed.packages("kept", "  - kept-app\n");
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let published = bed.files();

    bed.aur.delete("kept-lib");
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(both(&out).contains("gone from the AUR"), "not mentioned:\n{}", text(&out));
    assert_eq!(bed.files(), published, "the published directory changed");
    let pacman = bed.pacman("kept");
    assert_eq!(sorted_names(&pacman.list("kept")), ["kept-app", "kept-lib"]);
    let out = pacman.run(&["-S", "--noconfirm", "kept-app"]);
    assert!(out.status.success(), "pacman -S kept-app failed:\n{}", text(&out));
    assert!(pacman.installed_file("usr/share/kept-lib/version").is_file(), "kept-lib not pulled in");
}

/// Fault 9: a listed package gone from the AUR is a problem for `check` (on its line) and is
/// kept by `build`, which publishes the rest and exits 1.
#[test]
fn a_listed_package_gone_from_the_aur_is_kept_and_reported() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("greet", "greet"), ("gone", "gone")]);
    bed.packages("vanish", "  - greet\n  - gone\n");
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    bed.push("greet-1.1", "greet");
    bed.aur.delete("gone");
    let out = bed.run("check", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // repo.yaml's line 9 is `  - gone`.
    assert!(stderr.contains(&format!("{}:9:", bed.config)) && stderr.contains("gone"), "{stderr}");

    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(both(&out).contains("gone from the AUR"), "gone's fate not mentioned:\n{}", text(&out));
    let mut listed = bed.pacman("vanish").list("vanish");
    listed.sort();
    assert_eq!(
        listed,
        [("gone".to_string(), "1.0-1".to_string()), ("greet".to_string(), "1.1-1".to_string())],
        "{}",
        text(&out)
    );
    assert!(bed.files().iter().any(|f| f.starts_with("gone-1.0-1-")), "{:?}", bed.files());
}

/// Faults 8 and 10 in one repository. 8: `suite` 2.0 no longer makes suite-extra, which leaves
/// the database and the directory. 10: drift's .SRCINFO says 1.0-2 while its PKGBUILD still
/// makes 1.0-1: the build fails naming both, nothing of it is published, the next run does not
/// try again, and a real 1.0-2 is built.
#[test]
fn a_dropped_pkgname_leaves_and_a_srcinfo_pkgbuild_disagreement_is_not_retried() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("suite", "suite"), ("drift", "drift")]);
    bed.packages("life", "  - suite\n  - drift\n");
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pacman = bed.pacman("life");
    assert_eq!(sorted_names(&pacman.list("life")), ["drift", "suite-core", "suite-extra"]);
    let drift_file = bed.files().into_iter().find(|f| f.starts_with("drift-1.0-1-")).expect("drift published");

    bed.push("suite-2.0", "suite");
    bed.push("drift-srcinfo-only", "drift");
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = both(&out);
    assert!(
        said.lines().any(|l| l.contains("drift") && l.contains("1.0-2") && l.contains("1.0-1")),
        "no message names drift's two versions:\n{}",
        text(&out)
    );
    let mut listed = pacman.list("life");
    listed.sort();
    assert_eq!(
        listed,
        [("drift".to_string(), "1.0-1".to_string()), ("suite-core".to_string(), "2.0-1".to_string())],
        "{}",
        text(&out)
    );
    let files = bed.files();
    assert!(!files.iter().any(|f| f.starts_with("suite-extra")), "suite-extra left in the target: {files:?}");
    assert!(files.contains(&drift_file), "{files:?}");
    assert!(!files.iter().any(|f| f.starts_with("drift-1.0-2")), "{files:?}");

    // The same commit is not tried again: the plan says why.
    let plan = bed.plan();
    assert_eq!(plan.step("drift")["action"], "skip", "{}", plan.0);
    assert!(plan.step("drift")["reason"].as_str().unwrap().contains(".SRCINFO"), "{}", plan.0);
    let logs = bed.build_logs("drift");
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(bed.build_logs("drift"), logs, "drift was built again:\n{}", text(&out));
    assert_eq!(bed.files(), files);

    bed.push("drift-1.0-2", "drift");
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut listed = pacman.list("life");
    listed.sort();
    assert_eq!(
        listed,
        [("drift".to_string(), "1.0-2".to_string()), ("suite-core".to_string(), "2.0-1".to_string())],
        "{}",
        text(&out)
    );
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// Issue 24: three packages that need each other in a ring (ring-b through makedepends) beside
/// an unrelated one. `check` and `plan` exit 2 naming the cycle, every member in order, on the
/// line of each listed member; `build` says the same, builds and publishes the unrelated
/// package (pacman installs it), publishes nothing of the ring, and exits 1.
#[test]
fn a_dependency_cycle_fails_its_members_and_the_rest_is_published() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new(&[("greet", "greet"), ("ring-a", "ring-a"), ("ring-b", "ring-b"), ("ring-c", "ring-c")]);
    // Lines 8, 9 and 10.
    bed.packages("rings", "  - greet\n  - ring-a\n  - ring-c\n");
    let cycle = "dependency cycle: ring-a -> ring-b -> ring-c -> ring-a";
    // The diagnostics as a person reads them, with repo.yaml's path as its name.
    let diagnostics = |out: &Output| -> String {
        let stderr = String::from_utf8_lossy(&out.stderr).replace(bed.config.as_str(), "repo.yaml");
        let lines = stderr.lines().filter(|l| l.starts_with("repo.yaml:") || l.starts_with("  hint:"));
        lines.collect::<Vec<_>>().join("\n")
    };
    let mut said = Vec::new();
    for command in ["check", "plan", "build"] {
        let out = bed.run(command, &[]);
        let code = if command == "build" { 1 } else { 2 };
        assert_eq!(out.status.code(), Some(code), "{command}: {}", text(&out));
        let diags = diagnostics(&out);
        for line in [9, 10] {
            assert!(diags.contains(&format!("repo.yaml:{line}:5: {cycle}")), "{command}: line {line}:\n{}", text(&out));
        }
        said.push(diags);
    }
    assert_eq!(said[0], said[1], "check and plan say it alike");
    assert_eq!(said[0], said[2], "check and build say it alike");
    insta::assert_snapshot!("cycle_diagnostics", said[0]);
    let pacman = bed.pacman("rings");
    assert_eq!(sorted_names(&pacman.list("rings")), ["greet"]);
    let out = pacman.run(&["-S", "--noconfirm", "greet"]);
    assert!(out.status.success(), "pacman -S greet failed:\n{}", text(&out));
    assert!(!bed.files().iter().any(|f| f.starts_with("ring-")), "{:?}", bed.files());
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}
