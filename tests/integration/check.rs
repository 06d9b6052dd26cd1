//! `repoctl check`: every kind of bad repo.yaml exits 2 with FILE:LINE:COL and a hint, and
//! writes nothing to the bucket.
use crate::support::{Aur, S3, TESTBED_IMAGE, docker, repoctl, tempdir, text};
use std::time::{Duration, Instant};

struct Case {
    what: &'static str,
    yaml: Vec<u8>,
    line: u64,
    needle: &'static str,
}

fn header(endpoint: &str) -> String {
    format!("name: myrepo\ns3:\n  bucket: check-bucket\n  endpoint: {endpoint}\n")
}

fn cases(endpoint: &str) -> Vec<Case> {
    let h = header(endpoint);
    let mut bomb = String::from("name: myrepo\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = if i == 1 { "a".to_string() } else { format!("a{}", i - 1) };
        bomb.push_str(&format!(
            "a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    bomb.push_str("packages: *a11\n");
    vec![
        Case {
            what: "malformed YAML",
            yaml: format!("{h}packages:\n  - hello\n  - [unclosed\n").into_bytes(),
            line: 7,
            needle: "",
        },
        Case { what: "unknown key", yaml: b"nmae: myrepo\npackages: [hello]\n".to_vec(), line: 1, needle: "nmae" },
        Case {
            what: "unknown nested key",
            yaml: format!("{h}builder:\n  jbos: 2\npackages: [hello]\n").into_bytes(),
            line: 6,
            needle: "jbos",
        },
        Case {
            what: "wrong type",
            yaml: format!("{h}builder:\n  jobs: many\npackages: [hello]\n").into_bytes(),
            line: 6,
            needle: "",
        },
        Case {
            what: "invalid package name",
            yaml: format!("{h}packages:\n  - hello\n  - Bad/Name\n").into_bytes(),
            line: 7,
            needle: "Bad/Name",
        },
        Case {
            what: "duplicate package",
            yaml: format!("{h}packages:\n  - hello\n  - name: hello\n").into_bytes(),
            line: 7,
            needle: "listed twice",
        },
        Case {
            what: "missing required key",
            yaml: format!("{h}builder:\n  jobs: 2\n").into_bytes(),
            line: 1,
            needle: "packages",
        },
        Case {
            what: "invalid repository name",
            yaml: b"name: My Repo\npackages: [hello]\n".to_vec(),
            line: 1,
            needle: "My Repo",
        },
        Case {
            what: "duplicate key",
            yaml: format!("{h}packages: [hello]\nname: other\n").into_bytes(),
            line: 6,
            needle: "`name` is set twice in the same mapping (first on line 1)",
        },
        Case { what: "alias bomb", yaml: bomb.into_bytes(), line: 2, needle: "" },
        Case {
            what: "binary garbage",
            yaml: b"name: x\n\x00\x01\x02\xff\xfe garbage \x89PNG\r\n".to_vec(),
            line: 2,
            needle: "not a YAML text file",
        },
    ]
}

#[test]
fn bad_configurations_exit_2_with_a_location_and_write_nothing() {
    let s3 = S3::start();
    s3.create_bucket("check-bucket");
    let aur = Aur::start();
    let (_t, dir) = tempdir();
    for case in cases(&s3.endpoint) {
        let path = dir.join("repo.yaml");
        std::fs::write(&path, &case.yaml).unwrap();
        let started = Instant::now();
        let mut env = s3.env();
        env.push(("AUR_LOCATION", aur.url.clone()));
        let out = repoctl(&["check", "--config", path.as_str()], &env);
        let elapsed = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {}", case.what, text(&out));
        let location = if case.line > 0 { format!("{path}:{}:", case.line) } else { format!("{path}:") };
        assert!(stderr.contains(&location), "{}: expected {location} in:\n{stderr}", case.what);
        assert!(stderr.contains("hint:"), "{}: no hint in:\n{stderr}", case.what);
        assert!(stderr.contains(case.needle), "{}: expected {:?} in:\n{stderr}", case.what, case.needle);
        assert!(elapsed < Duration::from_secs(20), "{} took {elapsed:?}", case.what);
    }
    assert!(s3.keys("check-bucket").is_empty(), "check wrote to the bucket: {:?}", s3.keys("check-bucket"));
}

#[test]
fn unknown_aur_packages_are_named_on_their_line() {
    // plan, check and review read the official repositories through the builder image.
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("hello");
    aur.push_fixture("split-demo");
    let (_t, dir) = tempdir();
    let path = dir.join("repo.yaml");
    std::fs::write(
        &path,
        format!(
            "name: myrepo\nbuilder: {{image: {TESTBED_IMAGE}}}\npackages:\n  - hello\n  - no-such-package\n  - split-demo\n  - name: also-missing\n"
        ),
    )
    .unwrap();
    let out = repoctl(&["check", "--config", path.as_str()], &[("AUR_LOCATION", aur.url.clone())]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr.contains(&format!("{path}:5:5: package `no-such-package` was not found in the AUR")), "{stderr}");
    assert!(stderr.contains(&format!("{path}:7:")) && stderr.contains("also-missing"), "{stderr}");
    assert!(!stderr.contains("`hello`") && !stderr.contains("`split-demo`"), "{stderr}");
    // Nothing but the caches plan keeps too: no run directory, no repository.
    let written: Vec<String> = std::fs::read_dir(dir.join(".repoctl"))
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    assert!(written.iter().all(|n| ["official", "srcinfo", "logs"].contains(&n.as_str())), "{written:?}");

    std::fs::write(
        &path,
        format!("name: myrepo\nbuilder: {{image: {TESTBED_IMAGE}}}\npackages:\n  - hello\n  - split-demo\n"),
    )
    .unwrap();
    let out = repoctl(&["check", "--config", path.as_str()], &[("AUR_LOCATION", aur.url.clone())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// Issue 29: every problem of the file at once, whatever its kind (a wrong type no longer hides
/// an invalid name or a repeated key).
#[test]
fn problems_of_several_kinds_are_reported_in_one_run() {
    let (_t, dir) = tempdir();
    let path = dir.join("repo.yaml");
    std::fs::write(&path, "name: My Repo\nbuilder:\n  jobs: many\npackages: [hello]\npackages: [other]\n").unwrap();
    let out = repoctl(&["check", "--config", path.as_str()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let located: Vec<&str> = stderr.lines().filter(|l| l.starts_with(path.as_str())).collect();
    assert_eq!(located.len(), 3, "{stderr}");
    assert!(located[0].starts_with(&format!("{path}:1:7: invalid repository name")), "{stderr}");
    assert!(located[1].starts_with(&format!("{path}:3:9: ")), "{stderr}");
    assert!(located[2].starts_with(&format!("{path}:5:1: `packages` is set twice")), "{stderr}");
    assert!(!stderr.contains("DuplicateKeyPolicy"), "{stderr}");
    // Issue 29: like every other error, they end with the guide's section (once, after all).
    let guide: Vec<&str> = stderr.lines().filter(|l| l.starts_with("  guide: ")).collect();
    assert_eq!(guide, ["  guide: docs/src/troubleshooting.md#a-problem-in-repoyaml"], "{stderr}");
}

/// Issue 29: a new user running repoctl where there is no repo.yaml is told how to make one.
#[test]
fn a_missing_repo_yaml_points_at_init() {
    let (_t, dir) = tempdir();
    let out = repoctl(&["check", "--config", dir.join("repo.yaml").as_str()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("hint: `repoctl init` writes a starter repo.yaml"), "{stderr}");
}

/// Issue 29: a builder image the daemon has not and cannot pull is a problem at its line.
#[test]
fn a_builder_image_that_is_not_there_is_named_on_its_line() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("hello");
    let (_t, dir) = tempdir();
    let path = dir.join("repo.yaml");
    // A registry name that does not resolve: the pull fails at once, online or not.
    let image = "registry.invalid/repoctl-no-such-image:1";
    std::fs::write(&path, format!("name: myrepo\nbuilder:\n  image: {image}\npackages:\n  - hello\n")).unwrap();
    let out = repoctl(&["check", "--config", path.as_str()], &[("AUR_LOCATION", aur.url.clone())]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = format!("{path}:3:10: builder image {image} (");
    assert!(stderr.lines().any(|l| l.starts_with(&at)), "{stderr}");
    assert!(stderr.contains("is not present and cannot be pulled here\n  hint: name an image"), "{stderr}");
}
