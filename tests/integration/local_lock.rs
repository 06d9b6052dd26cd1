//! The local-directory target's lock (issue 24, item 4): the status object and the page are
//! written under `.repoctl.lock` like the database, and Ctrl-C while another publisher holds
//! it stops the run at once, leaving nothing behind. The other publisher is this test, holding
//! the lock the way repoctl takes it: flock(2), exclusive, on `DIR/.repoctl.lock`.
use crate::support::{Bed, TESTBED_IMAGE, docker, pins, repo_root, repoctl, repoctl_containers, text};
use camino::Utf8Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository's name in these tests.
const NAME: &str = "locked";

/// A bed publishing `greet` (tests/fixtures/aur-life) to `DIR/repo`.
fn bed() -> Bed {
    let bed = Bed::empty();
    push(&bed, "greet");
    let yaml =
        format!("name: {NAME}\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - greet\n");
    std::fs::write(&bed.config, yaml).unwrap();
    bed
}

/// Pushes tests/fixtures/aur-life/FIXTURE as a new commit of `greet`.
fn push(bed: &Bed, fixture: &str) {
    bed.aur.push_dir("greet", &repo_root().join("tests/fixtures/aur-life").join(fixture));
}

/// The publisher that holds the lock while it lives.
struct Holder(#[allow(dead_code)] std::fs::File);

impl Holder {
    /// Takes the lock of `repo`, waiting for no one: it must be free.
    fn take(repo: &Utf8Path) -> Holder {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(repo.join(".repoctl.lock"))
            .unwrap();
        file.try_lock().expect("the lock is free");
        Holder(file)
    }
}

/// `repoctl build` in the background, the AUR's heads locked first.
fn spawn_build(bed: &Bed) -> Child {
    let args = ["build", "--config", bed.config.as_str()];
    crate::support::lock_heads(&args, &bed.env(), None);
    let mut cmd = crate::support::repoctl_command(&args, &bed.env());
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Waits until `child` has `lock` open: it is waiting for the lock (it opens the file first).
/// Panics after `limit`, or when the child ends without having waited.
fn wait_until_waiting(child: &mut Child, lock: &Utf8Path, limit: Duration) {
    let lock = std::fs::canonicalize(lock).unwrap();
    let started = Instant::now();
    loop {
        let fds = std::fs::read_dir(format!("/proc/{}/fd", child.id())).into_iter().flatten().flatten();
        if fds.filter_map(|fd| std::fs::read_link(fd.path()).ok()).any(|target| target == lock) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("repoctl ended ({status}) without waiting for the lock another publisher holds");
        }
        assert!(started.elapsed() < limit, "repoctl never opened {}", lock.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The child's output once it exits, and how long that took; None inside after `limit` (the
/// child is still running then).
fn wait_exit(child: &mut Child, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn output(child: Child) -> Output {
    child.wait_with_output().unwrap()
}

/// Every file of the directory, with its bytes.
fn contents(dir: &Utf8Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default()))
        .collect();
    files.sort();
    files
}

fn digest(bytes: &[u8]) -> String {
    repoctl::publish::status::database_digest(bytes)
}

/// Sends SIGINT to the child and waits (a few seconds at most) for it to exit; the holder lets
/// go only afterwards, so a run that waits for the lock to stop cannot pass.
fn interrupt(mut child: Child, holder: Holder) -> (Output, Duration) {
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let took = wait_exit(&mut child, Duration::from_secs(10));
    drop(holder);
    let out = output(child);
    let took =
        took.unwrap_or_else(|| panic!("still running 10 s after SIGINT, until the lock was free:\n{}", text(&out)));
    (out, took)
}

/// A run with nothing to build writes a missing status object and page. While another
/// publisher holds the lock it waits, and it describes the database that is live when it gets
/// the lock (the other publisher's), never one it read before: no torn write. Ctrl-C while it
/// waits exits 130 at once and writes nothing.
#[test]
fn the_status_object_and_the_page_are_written_under_the_lock() {
    let Some(_docker) = docker() else { return };
    let bed = bed();
    let repo = bed.repo();
    let (db, status, page) =
        (repo.join(format!("{NAME}.db")), repo.join(format!("{NAME}.status.json")), repo.join("index.html"));
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let first = std::fs::read(&db).unwrap();
    push(&bed, "greet-1.1");
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_ne!(std::fs::read(&db).unwrap(), first);

    // Nothing to build; the status object and the page are gone, so this run writes them.
    std::fs::remove_file(&status).unwrap();
    std::fs::remove_file(&page).unwrap();
    let holder = Holder::take(&repo);
    let mut child = spawn_build(&bed);
    wait_until_waiting(&mut child, &repo.join(".repoctl.lock"), Duration::from_secs(120));
    std::thread::sleep(Duration::from_secs(2));
    assert!(!status.exists() && !page.exists(), "written while another publisher held the lock");
    // The other publisher commits another database (the first one, as a rollback would).
    let tmp = repo.join(".other-publisher");
    std::fs::write(&tmp, &first).unwrap();
    std::fs::rename(&tmp, &db).unwrap();
    drop(holder);
    assert!(wait_exit(&mut child, Duration::from_secs(60)).is_some(), "repoctl did not finish once the lock was free");
    let out = output(child);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("waiting for another publisher to finish with"),
        "the wait is not said:\n{}",
        text(&out)
    );
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&status).unwrap()).unwrap();
    assert_eq!(written["database"], digest(&first), "the status object describes another database than the live one");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("1.0-1") && !html.contains("1.1-1"), "the page shows another database:\n{html}");

    // Ctrl-C while waiting for the lock to write them: 130 at once, nothing written.
    std::fs::remove_file(&status).unwrap();
    std::fs::remove_file(&page).unwrap();
    let before = contents(&repo);
    let holder = Holder::take(&repo);
    let mut child = spawn_build(&bed);
    wait_until_waiting(&mut child, &repo.join(".repoctl.lock"), Duration::from_secs(120));
    let (out, took) = interrupt(child, holder);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(took < Duration::from_secs(3), "repoctl took {took:?} to stop after SIGINT");
    assert_eq!(contents(&repo), before, "the directory changed");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// Ctrl-C while a build waits to publish because another publisher holds the lock: repoctl
/// exits 130 within seconds (it used to wait for the other publisher to finish), removes its
/// containers and its image pin, writes nothing into the directory, and holds no lock.
#[test]
fn ctrl_c_while_waiting_for_the_publish_lock_exits_at_once_and_leaves_nothing() {
    let Some(_docker) = docker() else { return };
    let bed = bed();
    let repo = bed.repo();
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    push(&bed, "greet-1.1");
    let before = contents(&repo);

    let holder = Holder::take(&repo);
    let mut child = spawn_build(&bed);
    let pid = child.id();
    // It builds greet 1.1 first, then waits to publish it.
    wait_until_waiting(&mut child, &repo.join(".repoctl.lock"), Duration::from_secs(300));
    std::thread::sleep(Duration::from_secs(1));
    let (out, took) = interrupt(child, holder);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(took < Duration::from_secs(3), "repoctl took {took:?} to stop after SIGINT");
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"), "{}", text(&out));
    assert_eq!(contents(&repo), before, "the directory changed");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
    let run = format!("-{pid}");
    assert!(!pins().iter().any(|(_, r)| r.ends_with(&run)), "the run's image pin is left: {:?}", pins());
    drop(Holder::take(&repo));
    // The next run publishes what the interrupted one did not.
    let out = repoctl(&["build", "--config", bed.config.as_str()], &bed.env());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(bed.pacman(NAME).list(NAME), [("greet".to_string(), "1.1-1".to_string())]);
}
