//! The build sees exactly the locked commit's bytes (issue 23, items 2, 3, 6 and 7; issue 25,
//! item 1). Each test pushes an AUR commit that tries one way around the lock: a
//! `.gitattributes` that hides a file from the hash or a PKGBUILD from the diff, a clone whose
//! files change after they were verified, a key file that is a symbolic link, hooks and an
//! fsmonitor planted in a cached clone. They run the binary as a user would (`update`, then
//! `build`) and read what was published with Debian's pacman.
use crate::support::{Bed, TESTBED_IMAGE, docker, repo_root, repoctl_command, text};
use camino::Utf8PathBuf;
use serde_json::Value;
use std::io::BufRead;
use std::time::{Duration, Instant};

const DAY: i64 = 86_400;
/// Secrets a CI job holds while it runs repoctl: no git child may see them.
const SECRETS: [(&str, &str); 3] = [
    ("REPOCTL_SIGNING_KEY", "SECRET-SIGNING-KEY-6f1d"),
    ("REPOCTL_SIGNING_KEY_PASSPHRASE", "SECRET-PASSPHRASE-93a2"),
    ("AWS_SECRET_ACCESS_KEY", "SECRET-AWS-KEY-b7c4"),
];

/// `@SECONDS` of `days` ago, as git reads a date.
fn ago(days: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    format!("@{} +0000", now - days * DAY)
}

/// repo.yaml listing `package`, with `trust` (YAML lines under `trust:`, or empty).
fn write_config(bed: &Bed, package: &str, trust: &str) {
    let mut yaml = format!("name: tree\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\n");
    if !trust.is_empty() {
        yaml.push_str(&format!("trust:\n{trust}"));
    }
    yaml.push_str(&format!("packages:\n  - {package}\n"));
    std::fs::write(&bed.config, yaml).unwrap();
}

/// Pushes a commit of hello: the fixture's PKGBUILD and .SRCINFO at `version`, greeting.txt
/// saying `greeting`, and `extra` files (path, content), committed `age_days` ago. Files of the
/// earlier commit that this one does not write stay (scripts/push-fixture.sh).
fn push_hello(bed: &Bed, version: &str, greeting: &str, extra: &[(&str, &str)], age_days: i64) {
    let src = bed.dir.join(format!("src-hello-{}", ago(age_days).replace([' ', '@', '+'], "")));
    std::fs::create_dir_all(&src).unwrap();
    let fixture = repo_root().join("tests/fixtures/aur/hello");
    for file in ["PKGBUILD", ".SRCINFO"] {
        let text = std::fs::read_to_string(fixture.join(file)).unwrap();
        let text = text
            .replace("pkgver=1.0", &format!("pkgver={version}"))
            .replace("pkgver = 1.0", &format!("pkgver = {version}"));
        std::fs::write(src.join(file), text).unwrap();
    }
    std::fs::write(src.join("greeting.txt"), format!("{greeting}\n")).unwrap();
    for (path, content) in extra {
        std::fs::write(src.join(path), content).unwrap();
    }
    bed.aur.push_dated("hello", &src, Some(&ago(age_days)));
}

/// `update --json ARGS`, which must exit 0: the report.
fn update(bed: &Bed, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = bed.run_as_is("update", &all);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("update JSON: {e}\n{}", text(&out)))
}

fn hello(report: &Value) -> &Value {
    let packages = report["packages"].as_array().unwrap();
    packages.iter().find(|p| p["pkgbase"] == "hello").unwrap_or_else(|| panic!("hello in {report:#}"))
}

fn flags(p: &Value) -> Vec<String> {
    p["flags"].as_array().unwrap().iter().map(|f| f["reason"].as_str().unwrap().to_string()).collect()
}

fn lock(bed: &Bed) -> String {
    std::fs::read_to_string(bed.dir.join("repoctl.lock")).unwrap_or_default()
}

/// The `files = "..."` value of the lock's only entry.
fn locked_files(bed: &Bed) -> String {
    let lock = lock(bed);
    let line = lock.lines().find_map(|l| l.strip_prefix("files = ")).unwrap_or_else(|| panic!("no files in\n{lock}"));
    line.trim_matches('"').to_string()
}

/// What pacman installs as hello's greeting from the published repository.
fn installed_greeting(bed: &Bed) -> String {
    let pacman = bed.pacman("tree");
    let out = pacman.run(&["-Sy", "--noconfirm", "hello"]);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::read_to_string(pacman.installed_file("usr/share/hello/greeting.txt")).unwrap()
}

/// A directory holding a `git` that logs its environment and arguments to `log`, runs the real
/// git, then runs `after` (shell) when its arguments contain one of `when`. Put first on PATH,
/// it is what repoctl runs as git. Paths are written into the script: git's children do not
/// get the test's environment.
fn git_wrapper(bed: &Bed, log: &Utf8PathBuf, when: &[&str], after: &str) -> Utf8PathBuf {
    let dir = bed.dir.join("wrapper");
    std::fs::create_dir_all(&dir).unwrap();
    let real =
        String::from_utf8(std::process::Command::new("sh").args(["-c", "command -v git"]).output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
    let cases: Vec<String> = when.iter().map(|w| format!("*\" {w} \"*")).collect();
    let script = format!(
        "#!/bin/sh\n{{ echo \"ARGS: $*\"; env | sed 's/^/ENV: /'; }} >> '{log}'\n'{real}' \"$@\"\nrc=$?\n\
case \" $* \" in {}) {after} ;; esac\nexit $rc\n",
        if cases.is_empty() { "*never-matches*".to_string() } else { cases.join("|") }
    );
    let git = dir.join("git");
    std::fs::write(&git, script).unwrap();
    std::fs::set_permissions(&git, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    dir
}

/// `repoctl COMMAND --config repo.yaml ARGS` with `wrapper` first on PATH and `extra` in the
/// environment.
fn run_with(
    bed: &Bed,
    wrapper: &Utf8PathBuf,
    extra: &[(&str, &str)],
    command: &str,
    args: &[&str],
) -> std::process::Output {
    let path = format!("{wrapper}:{}", std::env::var("PATH").unwrap_or_default());
    let mut all = vec![command, "--config", bed.config.as_str()];
    all.extend_from_slice(args);
    let mut cmd = repoctl_command(&all, &bed.env());
    cmd.env("PATH", path);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::null()).output().unwrap()
}

/// A commit's own `.gitattributes` marks greeting.txt `export-ignore`, the file makepkg uses in
/// place of a `SKIP` source. The lock's hash covers it, so two commits that differ only there
/// lock differently; a version bump that also changes it is flagged, and `update --auto` does
/// not take it; the build installs exactly the locked commit's greeting.
#[test]
fn an_export_ignored_file_is_hashed_flagged_and_kept_from_update_auto() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    write_config(&bed, "hello", "  min_age: 1d\n  auto: version-only\n");
    let hide = ".gitattributes export-ignore\ngreeting.txt export-ignore\n";
    push_hello(&bed, "1.0", "hello from the reviewed commit", &[(".gitattributes", hide)], 10);
    assert_eq!(hello(&update(&bed, &[]))["status"], "added");

    // A version bump that also swaps the hidden file: not version-only.
    push_hello(&bed, "1.1", "hello from a hidden payload", &[], 5);
    let report = update(&bed, &["--auto"]);
    let p = hello(&report);
    assert_eq!((&p["status"], &p["version_only"]), (&"held".into(), &false.into()), "{report:#}");
    assert!(flags(p).iter().any(|f| f.contains("greeting.txt")), "the hidden file is flagged: {report:#}");
    assert!(lock(&bed).contains("version = \"1.0-1\""), "held at 1.0:\n{}", lock(&bed));

    // A person takes it; then a commit that changes only the hidden file locks differently.
    assert_eq!(hello(&update(&bed, &[]))["status"], "updated");
    let before = locked_files(&bed);
    push_hello(&bed, "1.1", "hello from the locked commit", &[], 4);
    let report = update(&bed, &[]);
    assert!(flags(hello(&report)).iter().any(|f| f.contains("greeting.txt")), "{report:#}");
    assert_ne!(locked_files(&bed), before, "the lock's hash covers the export-ignored file");

    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(installed_greeting(&bed), "hello from the locked commit\n");
}

/// `-diff` and `binary` on PKGBUILD and .SRCINFO: the report's diff still shows their text.
#[test]
fn a_binary_attribute_does_not_hide_the_pkgbuild_from_the_diff() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    write_config(&bed, "hello", "");
    let attributes = "PKGBUILD -diff\n.SRCINFO binary\n";
    push_hello(&bed, "1.0", "hello", &[(".gitattributes", attributes)], 10);
    update(&bed, &[]);
    push_hello(&bed, "1.1", "hello", &[], 5);
    let out = bed.run_as_is("update", &["--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    for line in ["-pkgver=1.0", "+pkgver=1.1", "-\tpkgver = 1.0", "+\tpkgver = 1.1"] {
        assert!(shown.lines().any(|l| l == line), "`{line}` in:\n{shown}");
    }
    assert!(!shown.contains("Binary files"), "{shown}");
}

/// The clone's files change after the build verified the locked commit (as a concurrent
/// `update` resetting it to the AUR's head would do): the build still builds the locked bytes.
#[test]
fn a_clone_changed_after_verification_does_not_change_what_is_built() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    write_config(&bed, "hello", "");
    push_hello(&bed, "1.0", "hello from the locked commit", &[], 10);
    update(&bed, &[]);
    let clone = bed.dir.join("work/aur/hello");
    // Right after git read the commit's files: the work tree of the clone (if it has one) is
    // changed under the build.
    let tamper = format!("[ -d '{clone}/.git' ] && printf 'hello from a reset work tree\\n' > '{clone}/greeting.txt'");
    let log = bed.dir.join("git.log");
    let wrapper = git_wrapper(&bed, &log, &["archive", "cat-file"], &tamper);
    let out = run_with(&bed, &wrapper, &[], "build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(installed_greeting(&bed), "hello from the locked commit\n");
}

/// keys/pgp/<FINGERPRINT>.asc is a symbolic link to a real key file on the host: it is not
/// followed; the build fails, naming the file.
#[test]
fn a_key_file_that_is_a_symbolic_link_is_refused() {
    let Some(_docker) = docker() else { return };
    const SIGNER: &str = "9AFB7BB20A2C795ABA9CDA8777867A0A09675111";
    let bed = Bed::empty();
    let fixture = bed.dir.join("fixture");
    crate::support::copy_tree(
        repo_root().join("tests/fixtures/aur/signed-source").as_std_path(),
        fixture.as_std_path(),
    );
    let key = fixture.join(format!("keys/pgp/{SIGNER}.asc"));
    std::fs::remove_file(&key).unwrap();
    std::os::unix::fs::symlink(repo_root().join("tests/fixtures/pgp/signer.asc"), &key).unwrap();
    bed.aur.push_dir("signed-source", &fixture);
    write_config(&bed, "signed-source", "");

    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains(&format!("keys/pgp/{SIGNER}.asc")) && all.contains("symbolic link"), "{all}");
    assert!(!bed.repo().join("tree.db").exists(), "nothing was published");
}

/// Hooks and an fsmonitor planted in a cached clone (as a poisoned CI cache would bring them)
/// never run, and no git child sees the signing key or the cloud credentials.
#[test]
fn hooks_planted_in_a_cached_clone_never_run_and_git_never_sees_secrets() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    write_config(&bed, "hello", "");
    push_hello(&bed, "1.0", "hello", &[], 10);
    update(&bed, &[]);

    let markers = bed.dir.join("markers");
    std::fs::create_dir_all(&markers).unwrap();
    let spy = |name: &str| format!("#!/bin/sh\nenv > '{markers}/{name}'\n");
    let evil_hooks = bed.dir.join("evil-hooks");
    std::fs::create_dir_all(&evil_hooks).unwrap();
    let clone = bed.dir.join("work/aur/hello");
    for git_dir in [clone.join(".git"), clone.clone()] {
        if !git_dir.join("HEAD").is_file() {
            continue;
        }
        std::fs::create_dir_all(git_dir.join("hooks")).unwrap();
        for hook in ["reference-transaction", "post-checkout", "post-merge", "pre-auto-gc", "post-index-change"] {
            for dir in [git_dir.join("hooks"), evil_hooks.clone()] {
                std::fs::write(dir.join(hook), spy(hook)).unwrap();
                std::fs::set_permissions(dir.join(hook), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
            }
        }
        let fsmonitor = bed.dir.join("fsmonitor.sh");
        std::fs::write(&fsmonitor, spy("fsmonitor")).unwrap();
        std::fs::set_permissions(&fsmonitor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        for (key, value) in [("core.fsmonitor", fsmonitor.as_str()), ("core.hooksPath", evil_hooks.as_str())] {
            let config = git_dir.join("config");
            let out = std::process::Command::new("git")
                .args(["config", "--file", config.as_str(), key, value])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", text(&out));
        }
    }

    push_hello(&bed, "1.1", "hello", &[], 5);
    let log = bed.dir.join("git.log");
    let wrapper = git_wrapper(&bed, &log, &[], "true");
    for command in ["update", "build"] {
        let out = run_with(&bed, &wrapper, &SECRETS, command, &[]);
        assert_eq!(out.status.code(), Some(0), "{command}: {}", text(&out));
    }
    let ran: Vec<String> =
        std::fs::read_dir(&markers).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(ran.is_empty(), "planted hooks ran: {ran:?}");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("ARGS: "), "git ran through the wrapper: {log}");
    for (name, secret) in SECRETS {
        assert!(!log.contains(secret), "git saw {name}:\n{log}");
    }
    for args in log.lines().filter_map(|l| l.strip_prefix("ARGS: ")) {
        assert!(
            args.contains("core.hooksPath=/dev/null") && args.contains("core.fsmonitor=false"),
            "git ran without hooks and fsmonitor off: {args}"
        );
    }
    assert_eq!(installed_greeting(&bed), "hello\n");
}

/// repoctl.lock as repoctl wrote it before issue 23: the locked commit's `files` as the SHA-256
/// of what `git archive` gives (each regular file's path, a NUL, its length, a NUL, its bytes).
fn lock_the_old_way(bed: &Bed) {
    let lock = lock(bed);
    let commit = lock.lines().find_map(|l| l.strip_prefix("commit = ")).unwrap().trim_matches('"');
    let bare = bed.aur.root.join("hello.git");
    let out = std::process::Command::new("git")
        .args(["--git-dir", bare.as_str(), "archive", "--format=tar", commit])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let mut files = std::collections::BTreeMap::new();
    for entry in tar::Archive::new(out.stdout.as_slice()).entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type().is_file() {
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            files.insert(path, bytes);
        }
    }
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    for (path, bytes) in &files {
        for part in [path.as_bytes(), b"\0", bytes.len().to_string().as_bytes(), b"\0", bytes] {
            sha2::Digest::update(&mut h, part);
        }
    }
    let old = format!("sha256:{:x}", sha2::Digest::finalize(h));
    std::fs::write(bed.dir.join("repoctl.lock"), lock.replace(&locked_files(bed), &old)).unwrap();
}

/// A lock written before issue 23 (`sha256:`): `build` accepts an entry whose hash saw every
/// entry of its commit, and `update` rewrites it as `tree-sha256:`; an entry whose commit holds
/// a `.gitattributes` the old hash obeyed is refused by `build` and held by `update --auto`
/// until a person's `update` shows every file.
#[test]
fn an_old_lock_entry_is_built_only_where_its_hash_saw_everything() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    write_config(&bed, "hello", "  min_age: 1d\n  auto: version-only\n");
    push_hello(&bed, "1.0", "hello from an old lock", &[], 10);
    update(&bed, &[]);
    lock_the_old_way(&bed);
    assert!(locked_files(&bed).starts_with("sha256:"));
    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(installed_greeting(&bed), "hello from an old lock\n");
    let report = update(&bed, &["--auto"]);
    assert_eq!((&report["rehashed"], &report["changed"]), (&1.into(), &true.into()), "{report:#}");
    assert!(locked_files(&bed).starts_with("tree-sha256:"), "{}", lock(&bed));

    push_hello(&bed, "1.1", "hello", &[(".gitattributes", "greeting.txt export-ignore\n")], 5);
    update(&bed, &[]);
    lock_the_old_way(&bed);
    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("which did not cover .gitattributes: run `repoctl update hello`"), "{}", text(&out));
    let report = update(&bed, &["--auto"]);
    let p = hello(&report);
    assert_eq!((&p["status"], &p["held"]["hold"]), (&"held".into(), &"needs-review".into()), "{report:#}");
    assert!(flags(p).iter().any(|f| f.contains("cannot be compared")), "{report:#}");
    assert_eq!(hello(&update(&bed, &[]))["status"], "updated");
    assert!(locked_files(&bed).starts_with("tree-sha256:"), "{}", lock(&bed));
}

/// Another command holds hello's clone: the build says it waits; Ctrl-C stops it at once (130);
/// once the clone is let go, the build goes on.
#[test]
fn a_build_waits_for_a_clone_in_use_and_ctrl_c_still_stops_it() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    write_config(&bed, "hello", "");
    push_hello(&bed, "1.0", "hello", &[], 10);
    update(&bed, &[]);
    let locks = bed.dir.join("work/aur/.locks");
    std::fs::create_dir_all(&locks).unwrap();
    let held = std::fs::File::create(locks.join("hello")).unwrap();
    held.lock().unwrap();

    // Interrupted while it waits.
    let (child, lines) = spawn_build(&bed);
    wait_for_line(&lines, "waiting for");
    let interrupted = Instant::now();
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(interrupted.elapsed() < Duration::from_secs(20), "took {:?} to stop", interrupted.elapsed());
    assert_eq!(crate::support::repoctl_containers(), 0, "containers left behind");

    // Let go of while it waits: it builds.
    let (child, lines) = spawn_build(&bed);
    wait_for_line(&lines, "waiting for");
    drop(held);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(installed_greeting(&bed), "hello\n");
}

/// `repoctl build` in the background, and its stderr lines as they come.
fn spawn_build(bed: &Bed) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let args = ["build", "--config", bed.config.as_str()];
    let mut child = repoctl_command(&args, &bed.env())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    (child, receive)
}

/// Waits (3 minutes at most) for a line containing `needle`; fails with the lines seen.
fn wait_for_line(lines: &std::sync::mpsc::Receiver<String>, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut seen = Vec::new();
    while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if line.contains(needle) {
            return;
        }
        seen.push(line);
    }
    panic!("no line with {needle:?} on stderr:\n{}", seen.join("\n"));
}
