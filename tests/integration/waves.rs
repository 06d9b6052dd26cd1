//! `plan --shards` at scale (issue 28), against a bucket on moto and the AUR stand-in: a
//! library a dozen listed packages need is built in a wave of its own and its dependants spread
//! over the next wave's shards; slow pkgbases, slow by the durations the status object recorded
//! for their last builds, land on different shards; `--shards auto --budget` picks the fewest
//! shards that fit, and says why when none does.
use crate::support::{Aur, Pacman, S3, TESTBED_IMAGE, docker, repo_root, repoctl, repoctl_containers, tempdir, text};
use camino::Utf8Path;

const BUCKET: &str = "waves-bucket";

/// A pkgbase `name` in `dir` (PKGBUILD and .SRCINFO) that depends on `depends`.
fn pkgbase(dir: &Utf8Path, name: &str, depends: &[&str]) {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let quoted: Vec<String> = depends.iter().map(|d| format!("'{d}'")).collect();
    let pkgbuild = format!(
        "pkgname={name}\npkgver=1.0\npkgrel=1\npkgdesc='{name}'\narch=('any')\nlicense=('MIT')\n\
         depends=({})\n\npackage() {{\n  install -d \"$pkgdir/usr/share/{name}\"\n}}\n",
        quoted.join(" ")
    );
    let mut srcinfo =
        format!("pkgbase = {name}\n\tpkgdesc = {name}\n\tpkgver = 1.0\n\tpkgrel = 1\n\tarch = any\n\tlicense = MIT\n");
    for d in depends {
        srcinfo.push_str(&format!("\tdepends = {d}\n"));
    }
    srcinfo.push_str(&format!("\npkgname = {name}\n"));
    std::fs::write(dir.join("PKGBUILD"), pkgbuild).unwrap();
    std::fs::write(dir.join(".SRCINFO"), srcinfo).unwrap();
}

/// The repository on moto, with `listed` in repo.yaml and the AUR holding `pkgbases` (name,
/// depends); the environment to run repoctl in, and repo.yaml's path.
struct Setup {
    s3: S3,
    _aur: Aur,
    _dir: tempfile::TempDir,
    config: camino::Utf8PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Setup {
    fn new(listed: &[&str], pkgbases: &[(&str, &[&str])]) -> Setup {
        let s3 = S3::start();
        s3.create_bucket(BUCKET);
        let aur = Aur::start();
        let (dir_guard, dir) = tempdir();
        let sources = dir.join("aur");
        for (name, depends) in pkgbases {
            pkgbase(&sources, name, depends);
            aur.push_dir(name, &sources.join(name));
        }
        let config = dir.join("repo.yaml");
        let mut yaml = format!(
            "name: waves\ns3:\n  bucket: {BUCKET}\n  prefix: repo\n  endpoint: {}\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n",
            s3.endpoint
        );
        for l in listed {
            yaml.push_str(&format!("  - {l}\n"));
        }
        std::fs::write(&config, yaml).unwrap();
        let mut env = s3.env();
        env.push(("AUR_LOCATION", aur.url.clone()));
        env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));
        let setup = Setup { s3, _aur: aur, _dir: dir_guard, config, env };
        let out = setup.run(&["update"]);
        assert_eq!(out.status.code(), Some(0), "repoctl update: {}", text(&out));
        setup
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut all = args.to_vec();
        all.extend(["--config", self.config.as_str()]);
        repoctl(&all, &self.env)
    }

    /// `plan --json` with `args`, which must exit 0.
    fn plan_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["plan", "--json"];
        all.extend(args);
        let out = self.run(&all);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice(&out.stdout).expect("JSON")
    }

    /// Writes the status object as `repoctl build` would after building each of `durations`
    /// (pkgbase, seconds it took) successfully.
    fn record_durations(&self, durations: &[(&str, u64)]) {
        let mut packages = serde_json::Map::new();
        for (base, secs) in durations {
            let time = "2026-12-01T01:00:00Z";
            let commit = "1".repeat(40);
            packages.insert(
                base.to_string(),
                serde_json::json!({
                    "result": "built", "version": "0.9-1", "commit": commit, "time": time, "run": "1-1",
                    "duration_secs": secs,
                    "built": {"version": "0.9-1", "commit": commit, "time": time, "duration_secs": secs},
                }),
            );
        }
        let status = serde_json::json!({
            "format": 1, "repo": "waves", "run": {"id": "1-1", "time": "2026-12-01T01:00:00Z"},
            "database": null, "packages": packages,
        });
        self.s3.put(BUCKET, "repo/waves.status.json", serde_json::to_vec_pretty(&status).unwrap());
    }
}

fn strings(value: &serde_json::Value) -> Vec<Vec<String>> {
    serde_json::from_value(value.clone()).expect("a list of lists of pkgbases")
}

#[test]
fn a_library_with_a_dozen_dependants_is_built_first_and_its_dependants_spread_over_the_next_wave() {
    let Some(_docker) = docker() else { return };
    let apps: Vec<String> = (1..=12).map(|i| format!("app{i:02}")).collect();
    let mut pkgbases: Vec<(&str, &[&str])> = vec![("libwave", &[]), ("hello", &[])];
    pkgbases.extend(apps.iter().map(|a| (a.as_str(), &["libwave"][..])));
    let mut listed: Vec<&str> = apps.iter().map(String::as_str).collect();
    listed.push("hello");
    let setup = Setup::new(&listed, &pkgbases);

    let plan = setup.plan_json(&["--shards", "4"]);
    let waves: Vec<Vec<Vec<String>>> = serde_json::from_value(plan["waves"].clone()).expect("waves");
    assert_eq!(waves.len(), 2, "{:#}", plan["waves"]);
    assert!(waves[0].concat().contains(&"libwave".to_string()), "the library comes first: {waves:?}");
    let second = &waves[1];
    assert_eq!(second.len(), 4, "the dependants use every shard of the next wave: {waves:?}");
    let mut spread: Vec<String> = second.concat();
    spread.sort();
    assert_eq!(spread, apps, "every dependant is in the second wave: {waves:?}");
    assert!(second.iter().all(|shard| shard.len() == 3), "a dozen over four shards: {waves:?}");
    // `shards` still keeps the group whole, for a workflow that runs one wave.
    let shards = strings(&plan["shards"]);
    let whole = shards.iter().find(|s| s.contains(&"libwave".to_string())).expect("libwave in a shard");
    assert_eq!(whole.len(), 13, "{shards:?}");
    // No build was recorded: each is expected to take the default, and the plan says so.
    let steps = plan["packages"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["expected_secs"] == 600 && s["expected_from"] == "default"), "{plan:#}");
    assert_eq!(plan["schedule"]["unknown"].as_array().unwrap().len(), 14);
    let out = setup.run(&["plan", "--shards", "4"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("wave 1 shard 1: "), "{stdout}");
    assert!(stdout.contains("wave 2 shard 4: "), "{stdout}");
    assert!(
        stdout.contains("14 build(s) have no recorded duration and are expected to take 10m (the default)"),
        "{stdout}"
    );
}

#[test]
fn slow_pkgbases_are_spread_by_their_recorded_durations_and_the_budget_picks_the_shards() {
    let Some(_docker) = docker() else { return };
    // In build order a slow and a fast one alternate: counting builds put both slow ones on one
    // shard of two.
    let names = ["a-slow", "b-fast", "c-slow", "d-fast"];
    let pkgbases: Vec<(&str, &[&str])> = names.iter().map(|n| (*n, &[][..])).collect();
    let setup = Setup::new(&names, &pkgbases);
    setup.record_durations(&[("a-slow", 7200), ("b-fast", 60), ("c-slow", 7200), ("d-fast", 60)]);

    let plan = setup.plan_json(&["--shards", "2"]);
    let shards = strings(&plan["shards"]);
    assert_eq!(shards.len(), 2, "{shards:?}");
    for shard in &shards {
        assert_eq!(shard.iter().filter(|b| b.ends_with("-slow")).count(), 1, "one slow build per shard: {shards:?}");
    }
    assert_eq!(strings(&plan["waves"][0]), shards, "one wave suffices");
    assert_eq!(plan["schedule"]["expected_secs"], 7260);
    let slow = plan["packages"].as_array().unwrap().iter().find(|s| s["pkgbase"] == "a-slow").unwrap().clone();
    assert_eq!(
        (&slow["expected_secs"], &slow["expected_from"]),
        (&serde_json::json!(7200), &serde_json::json!("last-build"))
    );

    // The fewest shards whose builds fit in 2h30m: two; three gain nothing.
    let plan = setup.plan_json(&["--shards", "auto", "--budget", "2h30m"]);
    assert_eq!(plan["schedule"]["max_shards"], 2, "{:#}", plan["schedule"]);
    // One build alone takes two hours: no number of shards fits in one, and nothing is printed
    // for a workflow to run.
    let out = setup.run(&["plan", "--json", "--shards", "auto", "--budget", "1h"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(out.stdout.is_empty(), "no plan on stdout: {}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "no split into at most 256 shards is expected to finish within 1h: the longest chain of builds \
             that need each other is expected to take 2h alone"
        ) && stderr.contains("raise --budget to 2h or more"),
        "{stderr}"
    );
}

/// A job's step of templates/workflows/repoctl-sharded.yml: the `run` script of the step of job
/// `job` whose name starts with `name`.
fn template_step(job: &str, name: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("templates/workflows/repoctl-sharded.yml")).unwrap();
    let workflow: serde_json::Value = serde_saphyr::from_str(&text).expect("workflow YAML");
    let steps = workflow["jobs"][job]["steps"].as_array().unwrap_or_else(|| panic!("no job {job}"));
    let step = steps.iter().find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name)));
    step.and_then(|s| s["run"].as_str()).unwrap_or_else(|| panic!("no step {name} in {job}")).to_string()
}

/// Runs `script` as a GitHub-hosted runner runs a `run` step (`bash --noprofile --norc -eo
/// pipefail`), in the checkout `cwd`, with repoctl on PATH and `env`.
fn run_step(script: &str, cwd: &Utf8Path, env: &[(&str, String)]) -> std::process::Output {
    let bin = cwd.join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    let _ = std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_repoctl"), bin.join("repoctl"));
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script]).current_dir(cwd);
    cmd.env("PATH", path).env("NO_COLOR", "1").env_remove("RUST_LOG").env_remove("GITHUB_ACTIONS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run bash")
}

/// A runner's checkout of the repository: repo.yaml and repoctl.lock, as committed.
fn checkout(setup: &Setup, dir: &Utf8Path) -> Vec<(&'static str, String)> {
    std::fs::create_dir_all(dir).unwrap();
    let source = setup.config.parent().unwrap();
    for f in ["repo.yaml", "repoctl.lock"] {
        std::fs::copy(source.join(f), dir.join(f)).unwrap();
    }
    let mut env: Vec<_> = setup.env.iter().filter(|(k, _)| *k != "REPOCTL_WORK_DIR").cloned().collect();
    env.push(("REPOCTL_WORK_DIR", dir.join(".repoctl").to_string()));
    env
}

/// Copies every file of each of `dirs` into `into` (actions/download-artifact's
/// `merge-multiple: true`).
fn merge(dirs: &[camino::Utf8PathBuf], into: &Utf8Path) {
    std::fs::create_dir_all(into).unwrap();
    for dir in dirs {
        for entry in walk(dir) {
            let dest = into.join(entry.strip_prefix(dir).unwrap());
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&entry, dest).unwrap();
        }
    }
}

fn walk(dir: &Utf8Path) -> Vec<camino::Utf8PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = camino::Utf8PathBuf::try_from(entry.path()).unwrap();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

/// Issue 28 items 3 and 4: the sharded template's own scripts, run as GitHub runs them, one
/// checkout and work directory per runner. Its plan step (with a budget of 25m, which this
/// repository needs two waves of four shards to meet) hands out the waves; wave 2's shards
/// install the library wave 1 built, checked against repoctl.lock, without building it again;
/// the publish step adds everything at once and pacman installs a dependant. A library file
/// changed on its way between the waves stops the shard before anything is built.
#[test]
fn the_sharded_template_runs_its_waves_and_a_later_wave_installs_what_an_earlier_one_built() {
    let Some(_docker) = docker() else { return };
    let apps = ["app1", "app2", "app3", "app4"];
    let mut pkgbases: Vec<(&str, &[&str])> = vec![("libwave", &[]), ("hello", &[])];
    pkgbases.extend(apps.iter().map(|a| (*a, &["libwave"][..])));
    let mut listed = apps.to_vec();
    listed.push("hello");
    let setup = Setup::new(&listed, &pkgbases);
    let root = setup.config.parent().unwrap().to_owned();

    let planner = root.join("runner-plan");
    let env = checkout(&setup, &planner);
    let outputs = planner.join("github-output");
    let mut env_plan = env.clone();
    env_plan.push(("GITHUB_OUTPUT", outputs.to_string()));
    let script = template_step("plan", "Plan").replace("--budget 300m", "--budget 25m");
    let out = run_step(&script, &planner, &env_plan);
    assert_eq!(out.status.code(), Some(0), "the plan step: {}", text(&out));
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    let wave = |k: usize| -> Vec<String> {
        let line = outputs.lines().find_map(|l| l.strip_prefix(&format!("wave{k}="))).expect("wave output");
        serde_json::from_str(line).expect("a JSON list of shards")
    };
    assert!(wave(1).iter().any(|s| s == "libwave"), "the library is built in wave 1: {outputs}");
    let second: Vec<String> = wave(2).iter().flat_map(|s| s.split(' ').map(String::from).collect::<Vec<_>>()).collect();
    assert!(apps.iter().all(|a| second.iter().any(|b| b == a)), "the dependants are in wave 2: {outputs}");
    assert!(wave(3).is_empty(), "{outputs}");

    let build = |k: usize| template_step(&format!("wave{k}"), "Build this shard");
    let mut artifacts = Vec::new();
    for k in [1, 2] {
        let earlier = artifacts.clone();
        for (i, packages) in wave(k).iter().enumerate() {
            let runner = root.join(format!("runner-{k}-{i}"));
            let mut env = checkout(&setup, &runner);
            env.push(("PACKAGES", packages.clone()));
            merge(&earlier, &runner.join("earlier"));
            let out = run_step(&build(k), &runner, &env);
            assert_eq!(out.status.code(), Some(0), "wave {k} shard {i} ({packages}): {}", text(&out));
            if k == 2 {
                let said = String::from_utf8_lossy(&out.stderr);
                assert!(said.contains("libwave: 1.0-1 built by an earlier wave"), "{said}");
                let built: Vec<String> =
                    walk(&runner.join("dist")).iter().map(|f| f.file_name().unwrap().into()).collect();
                assert!(!built.iter().any(|f| f.starts_with("libwave-")), "wave 2 built libwave again: {built:?}");
            }
            artifacts.push(runner.join("dist"));
        }
    }

    let publisher = root.join("runner-publish");
    let env = checkout(&setup, &publisher);
    merge(&artifacts, &publisher.join("dist"));
    let out = run_step(&template_step("publish", "Publish"), &publisher, &env);
    assert_eq!(out.status.code(), Some(0), "the publish step: {}", text(&out));
    let pacman = Pacman::new("waves", &format!("{}/{BUCKET}/repo", setup.s3.endpoint));
    let mut names: Vec<String> = pacman.list("waves").into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(names, ["app1", "app2", "app3", "app4", "hello", "libwave"]);
    let install = pacman.run(&["-S", "--noconfirm", "app3"]);
    assert!(install.status.success(), "pacman -S app3:\n{}", text(&install));

    // The library, changed between the waves: refused by name, and nothing is built.
    let runner = root.join("runner-tampered");
    let mut env = checkout(&setup, &runner);
    env.push(("PACKAGES", "app1".into()));
    merge(&artifacts[..2], &runner.join("earlier"));
    let lib = walk(&runner.join("earlier"))
        .into_iter()
        .find(|f| f.as_str().ends_with(".pkg.tar.zst") && f.file_name().unwrap().starts_with("libwave-"))
        .expect("libwave's file");
    let mut bytes = std::fs::read(&lib).unwrap();
    bytes.extend_from_slice(b"\0");
    std::fs::write(&lib, bytes).unwrap();
    let out = run_step(&build(2), &runner, &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("refused: ") && said.contains(lib.file_name().unwrap()), "{said}");
    assert!(said.contains("do not match repoctl.lock: nothing is built on them"), "{said}");
    assert!(!runner.join("dist").exists(), "the shard built something");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}
