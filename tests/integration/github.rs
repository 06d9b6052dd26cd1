//! GitHub Actions: the workflows pass GitHub's schema and zizmor's audit, output is native under
//! GITHUB_ACTIONS=true, reviewers see what a change lets in, the nightly's lock flow and the
//! sharded flow work end to end, and `init` / `schema` give a new repository a valid start.
use crate::support::{
    Aur, Pacman, TESTBED_IMAGE, docker, mermaid_available, mermaid_blocks, read_mermaid, repo_root, repoctl,
    repoctl_command, repoctl_containers, tempdir, text,
};
use camino::Utf8PathBuf;
use std::process::Command;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// A tool that scripts/testbed.sh installs: required under CI=true, else a skip.
pub(crate) fn tool(name: &str) -> Option<&str> {
    let found = Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success());
    match found {
        true => Some(name),
        false if in_ci() => panic!("CI=true but `{name}` is not installed; run scripts/testbed.sh"),
        false => {
            eprintln!("SKIPPING: {name} is not installed (scripts/testbed.sh installs it)");
            None
        }
    }
}

fn workflow_files() -> Vec<Utf8PathBuf> {
    let mut files = Vec::new();
    for dir in [".github/workflows", "templates/workflows"] {
        for entry in std::fs::read_dir(repo_root().join(dir)).expect(dir).flatten() {
            let path = Utf8PathBuf::try_from(entry.path()).expect("UTF-8");
            if path.extension() == Some("yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 6, "expected the project's and the templates' workflows: {files:?}");
    files
}

/// The composite actions: the project's and the one `init` writes (`*/action.yml`).
fn action_files() -> Vec<Utf8PathBuf> {
    let mut files = Vec::new();
    for dir in [".github/actions", "templates/actions"] {
        for entry in std::fs::read_dir(repo_root().join(dir)).into_iter().flatten().flatten() {
            let path = Utf8PathBuf::try_from(entry.path().join("action.yml")).expect("UTF-8");
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "expected templates/actions/install-repoctl/action.yml");
    files
}

#[test]
fn every_workflow_matches_githubs_schema_and_passes_zizmor() {
    let files = workflow_files();
    let actions = action_files();
    if let Some(check) = tool("check-jsonschema") {
        let out = Command::new(check)
            .args(["--builtin-schema", "vendor.github-workflows"])
            .args(files.iter().map(|f| f.as_str()))
            .output()
            .expect("check-jsonschema");
        assert!(out.status.success(), "workflow schema:\n{}", text(&out));
        let out = Command::new(check)
            .args(["--builtin-schema", "vendor.github-actions"])
            .args(actions.iter().map(|f| f.as_str()))
            .output()
            .expect("check-jsonschema");
        assert!(out.status.success(), "action schema:\n{}", text(&out));
    }
    if let Some(zizmor) = tool("zizmor") {
        let out = Command::new(zizmor)
            .args(["--offline", "--min-severity", "medium", "--no-progress"])
            .args(files.iter().chain(&actions).map(|f| f.as_str()))
            .output()
            .expect("zizmor");
        assert!(out.status.success(), "zizmor findings of medium severity or above:\n{}", text(&out));
    }
}

/// One job of a template, as the rules below read it.
struct Job {
    name: String,
    /// `repoctl build` runs in it: makepkg runs AUR code (a VCS package's upstream too).
    builds: bool,
    /// It builds with `--no-publish`: unreviewed commits (trial-build), or a shard.
    builds_unpublished: bool,
    /// It can write somewhere or act for the repository: `contents: write`, `id-token: write`,
    /// an AWS credentials step or a secret.
    credentialed: bool,
    /// `cache-mode` (the job's, else the workflow's; None: GitHub's default, read and write).
    cache_mode: Option<String>,
    /// Cache keys it can save (actions/cache, actions/cache/save), and what it restores
    /// (each key and restore-key: a prefix).
    saves: Vec<String>,
    restores: Vec<String>,
}

fn template_jobs(file: &str) -> Vec<Job> {
    let text = std::fs::read_to_string(repo_root().join("templates/workflows").join(file)).unwrap();
    let workflow: serde_json::Value = serde_saphyr::from_str(&text).expect("workflow YAML");
    let mut jobs = Vec::new();
    for (name, job) in workflow["jobs"].as_object().unwrap() {
        let steps = job["steps"].as_array().unwrap();
        let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
        let uses = |prefix: &'static str| {
            steps.iter().filter(move |s| s["uses"].as_str().is_some_and(|u| u.starts_with(prefix)))
        };
        let job_text = serde_json::to_string(job).unwrap();
        let permissions = &job["permissions"];
        let key = |s: &serde_json::Value, field: &str| -> Vec<String> {
            s["with"][field]
                .as_str()
                .unwrap_or_default()
                .lines()
                .map(|l| l.replace("${{ github.job }}", name))
                .collect()
        };
        let mut saves = Vec::new();
        let mut restores = Vec::new();
        for step in uses("actions/cache") {
            let action = step["uses"].as_str().unwrap().split('@').next().unwrap();
            if action != "actions/cache/restore" {
                saves.extend(key(step, "key"));
            }
            if action != "actions/cache/save" {
                restores.extend(key(step, "key").into_iter().chain(key(step, "restore-keys")));
            }
        }
        let cache_mode = job["cache-mode"].as_str().or(workflow["cache-mode"].as_str()).map(String::from);
        jobs.push(Job {
            name: name.clone(),
            builds: runs.iter().any(|r| r.contains("repoctl build")),
            builds_unpublished: runs.iter().any(|r| r.contains("repoctl build") && r.contains("--no-publish")),
            credentialed: permissions["contents"] == "write"
                || permissions["id-token"] == "write"
                || uses("aws-actions/configure-aws-credentials").next().is_some()
                || job_text.contains("secrets."),
            cache_mode,
            saves,
            restores,
        });
    }
    jobs
}

/// Issue 25 item 7: in the workflows `init` writes, a job that builds with `--no-publish`
/// (unreviewed commits, or a shard that hands its files to a publishing job) holds no write
/// access and no credential, and can save no cache (`cache-mode: read` or `none`); a job that
/// saves a cache restores no other saving job's: a credentialed job never reads what a job
/// running unreviewed code wrote, and each job's cache is its own.
#[test]
fn the_templates_keep_credentials_and_caches_away_from_aur_code() {
    let mut wrong = Vec::new();
    for file in ["repoctl-nightly.yml", "repoctl-sharded.yml", "repoctl-pr.yml"] {
        let jobs = template_jobs(file);
        assert!(jobs.iter().any(|j| j.builds), "{file}: no job builds");
        for job in jobs.iter().filter(|j| j.builds_unpublished) {
            if job.credentialed {
                wrong.push(format!("{file}: {} builds AUR code and holds write access or a credential", job.name));
            }
            if !matches!(job.cache_mode.as_deref(), Some("read" | "none")) || !job.saves.is_empty() {
                wrong.push(format!("{file}: {} builds AUR code and can save a cache ({:?})", job.name, job.cache_mode));
            }
        }
        for job in jobs.iter().filter(|j| !j.saves.is_empty()) {
            for other in jobs.iter().filter(|o| o.name != job.name) {
                let reads = other.saves.iter().any(|key| job.restores.iter().any(|prefix| key.starts_with(prefix)));
                if reads {
                    wrong.push(format!("{file}: {} restores the cache {} saves", job.name, other.name));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Issue 29: `init --local` is a starter for trying repoctl on one machine: a local target, no
/// workflows, next steps without AWS; every init keeps the work directory out of git.
#[test]
fn init_local_writes_a_local_starter_and_keeps_the_work_directory_out_of_git() {
    let (_t, dir) = tempdir();
    let out = repoctl(&["init", "--local", dir.as_str()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let starter = std::fs::read_to_string(dir.join("repo.yaml")).unwrap();
    assert!(
        starter.contains("\nlocal:\n  path: ./repo") && !starter.lines().any(|l| l.starts_with("s3:")),
        "{starter}"
    );
    assert!(dir.join("repo.schema.json").is_file() && !dir.join(".github").exists());
    let next = String::from_utf8_lossy(&out.stdout);
    assert!(!next.contains("AWS") && next.contains(&format!("Server = file://{dir}/repo")), "{next}");
    assert!(next.contains("repoctl add PKG") && next.contains("repoctl build"), "{next}");
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["/.repoctl/", "/repo/"]
    );

    // An S3 starter beside a .gitignore of one's own: the line is added once, nothing replaced.
    let (_t2, other) = tempdir();
    std::fs::write(other.join(".gitignore"), "target").unwrap();
    for _ in 0..2 {
        let out = repoctl(&["init", "--force", other.as_str()], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let ignored = std::fs::read_to_string(other.join(".gitignore")).unwrap();
    assert_eq!(ignored, "target\n# repoctl: caches, build logs and packages (the work directory)\n/.repoctl/\n");
}

#[test]
fn init_writes_a_starter_that_the_schema_and_the_loader_accept() {
    let (_t, dir) = tempdir();
    let out = repoctl(&["init", dir.as_str()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for f in [
        "repo.yaml",
        "repo.schema.json",
        ".github/workflows/repoctl-nightly.yml",
        ".github/workflows/repoctl-pr.yml",
        ".github/actions/install-repoctl/action.yml",
    ] {
        assert!(dir.join(f).is_file(), "init did not write {f}");
    }
    let starter = std::fs::read_to_string(dir.join("repo.yaml")).unwrap();
    assert!(starter.starts_with("# yaml-language-server: $schema=./repo.schema.json"), "{starter}");

    // A second init changes nothing and says how to overwrite.
    std::fs::write(dir.join("repo.yaml"), "name: mine\npackages: [hello]\n").unwrap();
    let again = repoctl(&["init", dir.as_str()], &[]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("--force"), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(dir.join("repo.yaml")).unwrap(), "name: mine\npackages: [hello]\n");
    let forced = repoctl(&["init", "--force", dir.as_str()], &[]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert_eq!(std::fs::read_to_string(dir.join("repo.yaml")).unwrap(), starter);

    // `repoctl schema` prints what init wrote; the starter and this project's repo.yaml pass it,
    // a misspelt key does not.
    let schema = repoctl(&["schema"], &[]);
    assert_eq!(schema.status.code(), Some(0));
    let schema_path = dir.join("printed.schema.json");
    std::fs::write(&schema_path, &schema.stdout).unwrap();
    assert_eq!(std::fs::read(&schema_path).unwrap(), std::fs::read(dir.join("repo.schema.json")).unwrap());
    let typo = dir.join("typo.yaml");
    std::fs::write(&typo, "name: mine\nbuilder:\n  jbos: 2\npackages: [hello]\n").unwrap();
    if let Some(check) = tool("check-jsonschema") {
        let ok = Command::new(check)
            .args(["--schemafile", schema_path.as_str(), dir.join("repo.yaml").as_str()])
            .arg(repo_root().join("repo.yaml").as_str())
            .output()
            .unwrap();
        assert!(ok.status.success(), "{}", text(&ok));
        let bad = Command::new(check).args(["--schemafile", schema_path.as_str(), typo.as_str()]).output().unwrap();
        assert!(!bad.status.success(), "the schema accepted a misspelt key:\n{}", text(&bad));
    }
    // The loader agrees with the schema on both.
    let check = repoctl(&["plan", "--config", typo.as_str()], &[]);
    assert_eq!(check.status.code(), Some(2), "{}", text(&check));
}

#[test]
fn under_github_actions_config_and_package_errors_are_annotations_on_their_line() {
    // plan, check and review read the official repositories through the builder image.
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("hello");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    let env = [
        ("AUR_LOCATION", aur.url.clone()),
        ("GITHUB_ACTIONS", "true".into()),
        ("CI", "true".into()),
        // The checkout's root: annotation paths are relative to it, as GitHub matches them.
        ("GITHUB_WORKSPACE", dir.to_string()),
    ];

    // An invalid name: line 4, column 5.
    std::fs::write(&config, "name: gh\npackages:\n  - hello\n  - Bad_Name\n").unwrap();
    let out = repoctl(&["check", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // On stderr: stdout stays the command's result.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = "::error file=repo.yaml,line=4,col=5::";
    assert!(stderr.lines().any(|l| l.starts_with(want)), "no annotation {want}:\n{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("::error"), "{}", text(&out));

    // A valid name the AUR does not know: line 5, column 5.
    std::fs::write(
        &config,
        format!(
            "name: gh\nbuilder: {{image: {TESTBED_IMAGE}}}\npackages:\n  - hello\n  # a comment\n  - no-such-package\n"
        ),
    )
    .unwrap();
    let out = repoctl(&["check", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = "::error file=repo.yaml,line=6,col=5::package `no-such-package` was not found in the AUR";
    assert!(stderr.lines().any(|l| l.starts_with(want)), "no annotation {want}:\n{}", text(&out));
}

#[test]
fn plan_writes_a_markdown_table_to_the_job_summary() {
    // plan, check and review read the official repositories through the builder image.
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("hello");
    aur.push_fixture("libfoo");
    aur.push_fixture("foo-app");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!("name: gh\nbuilder: {{image: {TESTBED_IMAGE}}}\npackages:\n  - hello\n  - foo-app\n"),
    )
    .unwrap();
    let summary = dir.join("summary.md");
    let env = [
        ("AUR_LOCATION", aur.url.clone()),
        ("GITHUB_ACTIONS", "true".into()),
        ("GITHUB_STEP_SUMMARY", summary.to_string()),
        ("REPOCTL_WORK_DIR", dir.join("work").to_string()),
    ];
    let out = repoctl(&["plan", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let md = std::fs::read_to_string(&summary).expect("the job summary was written");
    assert!(md.contains("| Package | Action | Locked version | Repository version | Reason |"), "{md}");
    for base in ["hello", "libfoo", "foo-app"] {
        assert!(md.contains(&format!("| `{base}` | build |")), "{base} missing from the summary:\n{md}");
    }
    assert!(!String::from_utf8_lossy(&out.stderr).contains('\u{1b}'), "no progress bars or colours under Actions");
}

#[test]
fn review_shows_what_an_added_package_lets_in() {
    // plan, check and review read the official repositories through the builder image.
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("hello");
    aur.push_fixture("libfoo");
    aur.push_fixture("foo-app");
    std::fs::write(aur.root.join("libfoo.git/maintainer"), "lib-keeper\n").unwrap();
    let (_t, dir) = tempdir();
    let base = dir.join("base.yaml");
    let config = dir.join("repo.yaml");
    std::fs::write(&base, format!("name: gh\nbuilder: {{image: {TESTBED_IMAGE}}}\npackages:\n  - hello\n")).unwrap();
    std::fs::write(
        &config,
        format!("name: gh\nbuilder: {{image: {TESTBED_IMAGE}}}\npackages:\n  - hello\n  - foo-app\n"),
    )
    .unwrap();
    let summary = dir.join("summary.md");
    let env = [
        ("AUR_LOCATION", aur.url.clone()),
        ("GITHUB_ACTIONS", "true".into()),
        ("GITHUB_STEP_SUMMARY", summary.to_string()),
        ("REPOCTL_WORK_DIR", dir.join("work").to_string()),
    ];
    let out = repoctl(&["review", "--config", config.as_str(), "--base", base.as_str(), "--json"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let review: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(review["build"], serde_json::json!(["foo-app"]), "only the added package is built: {review}");
    let entry = &review["entries"][0];
    assert_eq!(entry["change"], "added");
    assert_eq!(entry["package"]["maintainer"], "fixture-maintainer");
    let deps = entry["aur_dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{entry}");
    assert_eq!(deps[0]["pkgbase"], "libfoo");
    assert_eq!(deps[0]["maintainer"], "lib-keeper");
    // The link names the commit the AUR serves now, which is the one a build would check out.
    let head = Command::new("git")
        .args(["--git-dir", aur.root.join("libfoo.git").as_str(), "rev-parse", "HEAD"])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    assert_eq!(deps[0]["commit"], head.as_str());
    assert_eq!(deps[0]["pkgbuild_url"], format!("{}/cgit/aur.git/tree/PKGBUILD?h=libfoo&id={head}", aur.url).as_str());
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("| `libfoo` | dependency of `foo-app` |") && md.contains("lib-keeper"), "{md}");
    // The same closure as a graph, as Mermaid reads it: the entry, and an arrow to what it needs.
    if mermaid_available() {
        let graphs = mermaid_blocks(&md);
        assert_eq!(graphs.len(), 1, "{md}");
        let graph = read_mermaid(&graphs[0]);
        let mut nodes: Vec<(&str, &str)> = graph.nodes.iter().map(|n| (n.text.as_str(), n.shape.as_str())).collect();
        nodes.sort();
        assert_eq!(nodes, [("foo-app", "stadium"), ("libfoo", "square")], "{graph:#?}");
        let edges: Vec<(&str, &str)> = graph.edges.iter().map(|e| (graph.label(&e.from), graph.label(&e.to))).collect();
        assert_eq!(edges, [("foo-app", "libfoo")], "{graph:#?}");
    }

    // Nothing added: nothing to build.
    let out = repoctl(&["review", "--config", config.as_str(), "--base", config.as_str(), "--json"], &env);
    let review: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(review["build"], serde_json::json!([]));

    // foo-app taken out: nothing to build, and the removal is shown.
    let out = repoctl(&["review", "--config", base.as_str(), "--base", config.as_str(), "--json"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let review: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!((&review["build"], &review["removed"]), (&serde_json::json!([]), &serde_json::json!(["foo-app"])));

    // Issue 29: a mistyped --base is an error, not a review of everything as added.
    let missing = dir.join("mising.yaml");
    let out = repoctl(&["review", "--config", config.as_str(), "--base", missing.as_str(), "--json"], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("--base {missing} does not exist")) && err.contains("--base-may-be-missing"),
        "{err}"
    );
    // Asked for (a pull request that creates repo.yaml): every entry is added.
    let args = ["review", "--config", config.as_str(), "--base", missing.as_str(), "--base-may-be-missing", "--json"];
    let out = repoctl(&args, &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let review: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(review["build"], serde_json::json!(["hello", "foo-app"]), "{review}");
}

/// The flow of templates/workflows/repoctl-sharded.yml, run locally: plan in shards, build each
/// shard on its own "machine" (work directory) without publishing, publish all files at once.
#[test]
fn the_sharded_workflow_builds_in_shards_and_publishes_once() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    for f in ["hello", "libfoo", "foo-app"] {
        aur.push_fixture(f);
    }
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!("name: shards\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - foo-app\n  - hello\n"),
    )
    .unwrap();
    let summary = dir.join("summary.md");
    // Each "runner" is a GitHub Actions job: native output, its own work directory.
    let on = |machine: &str| {
        [
            ("AUR_LOCATION", aur.url.clone()),
            ("REPOCTL_WORK_DIR", dir.join(machine).to_string()),
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_STEP_SUMMARY", summary.to_string()),
        ]
    };

    let out = repoctl(&["plan", "--config", config.as_str(), "--json", "--shards", "4"], &on("planner"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let shards: Vec<Vec<String>> = serde_json::from_value(plan["shards"].clone()).expect("shards");
    assert_eq!(shards, [vec!["libfoo".to_string(), "foo-app".into()], vec!["hello".into()]]);

    let dist = dir.join("dist");
    for (i, shard) in shards.iter().enumerate() {
        let mut args = vec!["build", "--config", config.as_str(), "--no-publish", "--out", dist.as_str()];
        args.extend(shard.iter().map(String::as_str));
        let out = repoctl(&args, &on(&format!("shard{i}")));
        assert_eq!(out.status.code(), Some(0), "shard {i}: {}", text(&out));
        // Each package's build log is a collapsed group with workflow commands switched off.
        let stderr = String::from_utf8_lossy(&out.stderr);
        for base in shard {
            assert!(stderr.contains(&format!("::group::{base} build log")), "no log group for {base}:\n{stderr}");
        }
        assert!(stderr.contains("::stop-commands::repoctl-"), "{stderr}");
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("| Package | Result | Version | Duration | Detail |") && md.contains("| `libfoo` | built |"),
        "{md}"
    );
    gantt_charts_agree_with_the_tables(&md, shards.len(), &["foo-app", "hello", "libfoo"]);
    assert!(!dir.join("repo").exists(), "a shard published");
    let out = repoctl(&["publish", "--config", config.as_str(), dist.as_str()], &on("publisher"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let pacman = Pacman::new("shards", &format!("file://{}", dir.join("repo")));
    let mut listed = pacman.list("shards");
    listed.sort();
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["foo-app", "hello", "libfoo"]);
    let install = pacman.run(&["-S", "--noconfirm", "foo-app", "hello"]);
    assert!(install.status.success(), "pacman -S:\n{}", text(&install));
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// The job summary `md` of `runs` build runs holds one Gantt chart for each, and Mermaid reads
/// in them what the tables say: each pkgbase of `built` has a section in one chart, whose bars
/// follow each other without a gap and add up to the Duration of its table row; each run shows
/// its image refresh.
fn gantt_charts_agree_with_the_tables(md: &str, runs: usize, built: &[&str]) {
    if !mermaid_available() {
        return;
    }
    // `| `libfoo` | built | 2.1-1 | 3.4s | 1 file(s) |`
    let mut table = std::collections::BTreeMap::new();
    for line in md.lines() {
        let cells: Vec<&str> = line.split(" | ").collect();
        if let [package, "built", _, duration, ..] = cells[..] {
            let seconds: f64 = duration.trim_end_matches('s').parse().expect(duration);
            table.insert(package.trim_start_matches("| ").trim_matches('`').to_string(), seconds);
        }
    }
    let charts: Vec<_> = mermaid_blocks(md).iter().map(|b| read_mermaid(b)).collect();
    assert_eq!(charts.len(), runs, "one chart per build run:\n{md}");
    for chart in &charts {
        assert_eq!(chart.kind, "gantt");
        let refresh = chart.tasks.iter().any(|t| t.section == "repoctl run" && t.task.starts_with("image refresh ("));
        assert!(refresh, "no image refresh: {chart:#?}");
    }
    for base in built {
        let bars: Vec<_> = charts.iter().flat_map(|c| &c.tasks).filter(|t| t.section == *base).collect();
        assert!(!bars.is_empty(), "{base} has no section in the charts:\n{md}");
        for pair in bars.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "{base}: a gap or overlap between phases: {bars:#?}");
        }
        let charted = (bars[bars.len() - 1].end - bars[0].start) as f64 / 1000.0;
        let listed = table.get(*base).unwrap_or_else(|| panic!("{base} is not a built row of the table:\n{md}"));
        assert!((charted - listed).abs() <= 0.051, "{base}: {charted}s charted, {listed}s in the table:\n{md}");
    }
}

/// The flow of templates/workflows/repoctl-nightly.yml, run locally with the template's own
/// commands. update-lock: `update --auto` takes the version bump (committed to the default
/// branch), `update --markdown` writes the pull request's body and proposes the new package.
/// trial-build: on the pull request's lock, `update --since` names what it lets in, and
/// `build --no-publish` builds it without touching the repository. build: the default
/// branch's lock is published, and pacman sees only locked versions until the merge.
#[test]
fn the_nightly_workflow_commits_version_bumps_proposes_the_rest_and_builds_only_the_lock() {
    let template = std::fs::read_to_string(repo_root().join("templates/workflows/repoctl-nightly.yml")).unwrap();
    for command in [
        "repoctl update --config repo.yaml --auto",
        "repoctl update --config repo.yaml --markdown > body.md",
        "repoctl update --config repo.yaml --since .repoctl-base/repoctl.lock --json > lock-report.json",
        r#"select(.status == "added" or .status == "updated") | .pkgbase"#,
        r#"repoctl build --config repo.yaml --no-publish "${packages[@]}""#,
        "run: repoctl build --config repo.yaml\n",
    ] {
        assert!(template.contains(command), "the nightly template no longer runs `{command}`: update this test");
    }
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    let (_t, dir) = tempdir();
    let days_ago = |days: u64| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        format!("@{} +0000", now - days * 86_400)
    };
    let fixtures = repo_root().join("tests/fixtures/aur");
    aur.push_dated("hello", &fixtures.join("hello"), Some(&days_ago(10)));
    aur.push_dated("libfoo", &fixtures.join("libfoo"), Some(&days_ago(10)));

    // Two checkouts, each a runner with its own work directory: the default branch, and the
    // pull request's branch (with the default branch's lock at .repoctl-base/, as trial-build
    // makes it). Both name the same published repository.
    let main = dir.join("main");
    let pr = dir.join("pr");
    std::fs::create_dir_all(pr.join(".repoctl-base")).unwrap();
    std::fs::create_dir_all(&main).unwrap();
    let repo_yaml = |packages: &str| {
        format!(
            "name: nightly\nlocal:\n  path: {}\nbuilder:\n  image: {TESTBED_IMAGE}\ntrust:\n  min_age: 3d\n  auto: version-only\npackages: [{packages}]\n",
            dir.join("repo")
        )
    };
    let run = |checkout: &Utf8PathBuf, args: &[&str]| {
        let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", checkout.join(".repoctl").to_string())];
        let mut all = args.to_vec();
        all.extend(["--config", "repo.yaml"]);
        let out =
            repoctl_command(&all, &env).current_dir(checkout).stdin(std::process::Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "repoctl {args:?}:\n{}", text(&out));
        out
    };
    let lock = |checkout: &Utf8PathBuf| std::fs::read_to_string(checkout.join("repoctl.lock")).unwrap_or_default();
    let pacman = Pacman::new("nightly", &format!("file://{}", dir.join("repo")));
    let published = || {
        let mut listed = pacman.list("nightly");
        listed.sort();
        listed
    };

    // Adopted: hello locked after a review, and published.
    std::fs::write(main.join("repo.yaml"), repo_yaml("hello")).unwrap();
    run(&main, &["update"]);
    run(&main, &["build"]);
    assert_eq!(published(), [("hello".to_string(), "1.0-1".to_string())]);

    // Overnight: hello gets a version bump (5 days old), and repo.yaml now lists libfoo too.
    let bump = dir.join("hello-1.1");
    std::fs::create_dir_all(&bump).unwrap();
    for file in ["PKGBUILD", ".SRCINFO", "greeting.txt"] {
        let text = std::fs::read_to_string(fixtures.join("hello").join(file)).unwrap();
        std::fs::write(
            bump.join(file),
            text.replace("pkgver=1.0", "pkgver=1.1").replace("pkgver = 1.0", "pkgver = 1.1"),
        )
        .unwrap();
    }
    aur.push_dated("hello", &bump, Some(&days_ago(5)));
    std::fs::write(main.join("repo.yaml"), repo_yaml("hello, libfoo")).unwrap();

    // update-lock: --auto takes the bump alone, and that is the default branch's lock.
    run(&main, &["update", "--auto"]);
    let default_branch_lock = lock(&main);
    assert!(default_branch_lock.contains("version = \"1.1-1\""), "{default_branch_lock}");
    assert!(!default_branch_lock.contains("libfoo"), "a new package waits for review:\n{default_branch_lock}");
    // ... then the pull request: its title is the body's first line, its branch holds the lock.
    let body = String::from_utf8(run(&main, &["update", "--markdown"]).stdout).unwrap();
    assert_eq!(body.lines().next(), Some("## AUR updates: 1 package"), "{body}");
    assert!(body.contains("`libfoo`"), "{body}");
    let pr_lock = lock(&main);
    assert!(pr_lock.contains("name = \"libfoo\""), "{pr_lock}");
    std::fs::write(main.join("repoctl.lock"), &default_branch_lock).unwrap();
    std::fs::write(pr.join("repo.yaml"), repo_yaml("hello, libfoo")).unwrap();
    std::fs::write(pr.join("repoctl.lock"), &pr_lock).unwrap();
    std::fs::write(pr.join(".repoctl-base/repoctl.lock"), &default_branch_lock).unwrap();

    // trial-build: what the pull request lets in, built and not published.
    let out = run(&pr, &["update", "--since", ".repoctl-base/repoctl.lock", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let moved: Vec<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "added" || p["status"] == "updated")
        .map(|p| p["pkgbase"].as_str().unwrap())
        .collect();
    assert_eq!(moved, ["libfoo"], "{report:#}");
    run(&pr, &["build", "--no-publish", "libfoo"]);
    assert!(files_under(&pr.join(".repoctl/runs")).iter().any(|f| f.starts_with("libfoo-2.1-1")), "no libfoo built");
    assert_eq!(published(), [("hello".to_string(), "1.0-1".to_string())], "the trial build published");

    // build: the default branch's lock, and only it.
    run(&main, &["build"]);
    assert_eq!(published(), [("hello".to_string(), "1.1-1".to_string())], "libfoo is not locked there yet");
    let install = pacman.run(&["-Sy", "--noconfirm", "hello"]);
    assert!(install.status.success(), "pacman -S hello:\n{}", text(&install));

    // Merged: the next build publishes libfoo.
    std::fs::write(main.join("repoctl.lock"), &pr_lock).unwrap();
    run(&main, &["build"]);
    assert_eq!(published(), [("hello".to_string(), "1.1-1".to_string()), ("libfoo".to_string(), "2.1-1".to_string())]);
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// The names of the files under `dir`, at any depth.
fn files_under(dir: &Utf8PathBuf) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = Utf8PathBuf::try_from(entry.path()).expect("UTF-8");
        if path.is_dir() {
            found.extend(files_under(&path));
        } else if let Some(name) = path.file_name() {
            found.push(name.to_string());
        }
    }
    found
}
