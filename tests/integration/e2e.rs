//! The whole path: repo.yaml -> AUR -> builds in containers -> S3 -> pacman installs.
use crate::support::{
    Aur, Pacman, S3, TESTBED_IMAGE, docker, repoctl, repoctl_containers, superseded_images, tempdir, text,
};

const BUCKET: &str = "e2e-bucket";

fn write_config(dir: &camino::Utf8Path, s3: &S3) -> camino::Utf8PathBuf {
    let path = dir.join("repo.yaml");
    let yaml = format!(
        "name: e2erepo\n\
s3:\n  bucket: {BUCKET}\n  prefix: repo/x86_64\n  endpoint: {}\n  acl: public-read\n\
builder:\n  image: {TESTBED_IMAGE}\n  jobs: 2\n\
snapshots:\n  keep: 0          # no history: an old file leaves as soon as no database lists it\n\
packages:\n  - hello            # plain\n  - foo-app          # needs libfoo, an AUR package not listed here\n  - split-demo       # a split package, named by its pkgbase\n",
        s3.endpoint
    );
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn build_publishes_a_repository_that_pacman_installs_from() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    s3.create_bucket(BUCKET);
    let aur = Aur::start();
    for p in ["hello", "libfoo", "foo-app", "split-demo"] {
        aur.push_fixture(p);
    }
    let (_t, dir) = tempdir();
    let config = write_config(&dir, &s3);
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));

    // The plan: libfoo is found as an AUR dependency and comes before foo-app.
    let out = repoctl(&["plan", "--json", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    let order: Vec<&str> =
        plan["packages"].as_array().unwrap().iter().map(|p| p["pkgbase"].as_str().unwrap()).collect();
    let pos = |b: &str| order.iter().position(|x| *x == b).unwrap_or_else(|| panic!("{b} not in {order:?}"));
    assert!(pos("libfoo") < pos("foo-app"), "{order:?}");
    assert!(plan["packages"].as_array().unwrap().iter().all(|p| p["action"] == "build"), "{plan}");
    assert_eq!(plan["packages"][pos("foo-app")]["depends_on"], serde_json::json!(["libfoo"]));

    // The build.
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(repoctl_containers(), 0, "containers left behind");

    let keys = s3.keys(BUCKET);
    for key in
        ["e2erepo.db", "e2erepo.db.tar.zst", "e2erepo.files", "e2erepo.files.tar.zst", "hello-1.0-1-x86_64.pkg.tar.zst"]
    {
        assert!(keys.contains(&format!("repo/x86_64/{key}")), "{key} missing from {keys:?}");
    }

    // pacman, as a user's machine, over HTTP from the bucket.
    let pacman = Pacman::new("e2erepo", &format!("{}/{BUCKET}/repo/x86_64", s3.endpoint));
    let mut listed = pacman.list("e2erepo");
    listed.sort();
    let expected = [
        ("foo-app", "0.3-2"),
        ("hello", "1.0-1"),
        ("libfoo", "2.1-1"),
        ("split-demo-a", "1:5-1"),
        ("split-demo-b", "1:5-1"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(listed, expected);

    let install = pacman.run(&["-S", "--noconfirm", "foo-app"]);
    assert!(install.status.success(), "pacman -S foo-app failed:\n{}", text(&install));
    let built_against = std::fs::read_to_string(pacman.installed_file("/usr/share/foo-app/built-against")).unwrap();
    assert_eq!(built_against.trim(), "libfoo 2.1");
    assert!(pacman.installed_file("/usr/share/libfoo/version").is_file(), "libfoo was not installed with foo-app");
    // Installing libfoo in foo-app's build container ran its scriptlet (libalpm chroots for it).
    let foo_log = std::fs::read_to_string(&glob_logs(&dir.join("work"), "foo-app")[0]).unwrap();
    assert!(foo_log.contains("libfoo post_install ran"), "libfoo's install scriptlet did not run:\n{foo_log}");
    let install = pacman.run(&["-S", "--noconfirm", "split-demo-b", "hello"]);
    assert!(install.status.success(), "pacman -S split-demo-b hello failed:\n{}", text(&install));
    assert!(pacman.installed_file("/usr/share/split-demo/a").is_file());
    assert_eq!(
        std::fs::read_to_string(pacman.installed_file("/usr/share/hello/greeting.txt")).unwrap().trim(),
        "hello from the AUR fixture"
    );

    // Every build left its full log.
    for base in ["hello", "libfoo", "foo-app", "split-demo"] {
        let logs: Vec<_> = glob_logs(&dir.join("work"), base);
        assert!(!logs.is_empty(), "no log for {base}");
    }

    // A second run finds nothing to do and writes nothing: not one object's ETag or time moves
    // (the status object and the page already describe this database).
    let objects = s3.objects(BUCKET);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to do"), "{}", text(&out));
    assert_eq!(s3.keys(BUCKET), keys);
    assert_eq!(s3.objects(BUCKET), objects, "a run with nothing to do wrote to the bucket");

    // Asking for hello again does not rebuild it: a published file name is never given new
    // bytes, so the rebuild could not be published (issue 29: it was, and was said "built").
    let out = repoctl(&["build", "--config", config.as_str(), "hello"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("hello: 1.0-1 is published, the version repoctl.lock names: not rebuilt"),
        "{}",
        text(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to do"), "{}", text(&out));
    assert_eq!(s3.keys(BUCKET), keys);

    // A new libfoo in the AUR: only libfoo is rebuilt, and its old file leaves the bucket.
    let (_b, bumped) = tempdir();
    let fixture = crate::support::repo_root().join("tests/fixtures/aur/libfoo");
    for f in ["PKGBUILD", ".SRCINFO"] {
        let body = std::fs::read_to_string(fixture.join(f))
            .unwrap()
            .replace("pkgver=2.1", "pkgver=2.2")
            .replace("pkgver = 2.1", "pkgver = 2.2");
        std::fs::write(bumped.join(f), body).unwrap();
    }
    aur.push_dir("libfoo", &bumped);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("libfoo") && stdout.contains("2.2-1"), "{}", text(&out));
    assert!(!stdout.contains("hello       built"), "hello was rebuilt:\n{stdout}");
    let keys = s3.keys(BUCKET);
    assert!(keys.contains(&"repo/x86_64/libfoo-2.2-1-any.pkg.tar.zst".to_string()), "{keys:?}");
    assert!(!keys.contains(&"repo/x86_64/libfoo-2.1-1-any.pkg.tar.zst".to_string()), "old file kept: {keys:?}");

    // hello dropped from repo.yaml: it leaves the database and the bucket; the rest stays.
    let yaml = std::fs::read_to_string(&config).unwrap().replace("  - hello            # plain\n", "");
    std::fs::write(&config, yaml).unwrap();
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listed: Vec<String> = pacman.list("e2erepo").into_iter().map(|(n, _)| n).collect();
    assert_eq!(listed, ["foo-app", "libfoo", "split-demo-a", "split-demo-b"]);
    assert!(!s3.keys(BUCKET).iter().any(|k| k.contains("hello-1.0-1")), "{:?}", s3.keys(BUCKET));
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

fn glob_logs(work: &camino::Utf8Path, base: &str) -> Vec<std::path::PathBuf> {
    let runs = work.join("runs");
    std::fs::read_dir(runs)
        .into_iter()
        .flatten()
        .flatten()
        .map(|run| run.path().join("logs").join(format!("{base}.log")))
        .filter(|p| p.is_file())
        .collect()
}

/// The laptop path: no `s3`, so the repository goes to a local directory that pacman reads
/// with `Server = file://`; and the shard path: `build --no-publish`, then `publish DIR`.
#[test]
fn no_publish_then_publish_into_a_local_directory() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("hello");
    aur.push_fixture("libfoo");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!("name: laptop\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n  - libfoo\n"),
    )
    .unwrap();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];

    let out = repoctl(&["build", "--no-publish", "--config", config.as_str(), "hello"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!dir.join("repo").exists(), "--no-publish wrote the repository");
    let built: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join("work/runs"))
        .unwrap()
        .flatten()
        .flat_map(|run| std::fs::read_dir(run.path().join("packages")).into_iter().flatten().flatten())
        .map(|e| e.path())
        .collect();
    // The package file and, beside it, its provenance record.
    let (built, records): (Vec<_>, Vec<_>) = built.into_iter().partition(|p| is_package(p));
    assert_eq!(built.len(), 1, "only hello was asked for: {built:?}");
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(records[0].to_string_lossy().ends_with(".provenance.json"), "{records:?}");
    // The file and its record, as `build --out` copies them: publish DIR takes no file
    // without the record that ties it to repoctl.lock (tests/integration/pkginfo.rs).
    let shard = dir.join("shard");
    std::fs::create_dir(&shard).unwrap();
    for file in [&built[0], &records[0]] {
        std::fs::copy(file, shard.as_std_path().join(file.file_name().unwrap())).unwrap();
    }

    let out = repoctl(&["publish", "--config", config.as_str(), shard.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pacman = Pacman::new("laptop", &format!("file://{}", dir.join("repo")));
    assert_eq!(pacman.list("laptop"), [("hello".to_string(), "1.0-1".to_string())]);
    for name in ["laptop.db", "laptop.files"] {
        let meta = std::fs::symlink_metadata(dir.join("repo").join(name)).unwrap();
        assert!(meta.file_type().is_file(), "{name} must be a real file, not a link");
    }
    // Publishing the same shard again changes nothing and writes nothing: not the database,
    // not the status object, not the page (every file keeps its bytes and its time).
    let files = || -> Vec<(String, std::time::SystemTime, Vec<u8>)> {
        // The files at the top (the history's `history/` and the logs' `logs/` are directories).
        let mut all: Vec<_> = std::fs::read_dir(dir.join("repo"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().modified().unwrap(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        all.sort();
        all
    };
    let before = files();
    assert!(before.iter().any(|(n, ..)| n == "index.html"), "{:?}", before.iter().map(|f| &f.0).collect::<Vec<_>>());
    let out = repoctl(&["publish", "--config", config.as_str(), shard.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("are current: nothing written"), "{}", text(&out));
    assert!(files() == before, "publishing nothing new wrote to the repository:\n{}", text(&out));
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// One broken package among good ones: it fails alone, its dependant is skipped and named, the
/// good ones are published and installable, its log tail is shown, and no container is left.
#[test]
fn a_broken_package_fails_alone() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    for f in ["hello", "broken", "needs-broken", "libfoo", "foo-app"] {
        aur.push_fixture(f);
    }
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!(
            "name: mixed\nbuilder:\n  image: {TESTBED_IMAGE}\n  jobs: 2\npackages:\n  - hello\n  - needs-broken\n  - foo-app\n"
        ),
    )
    .unwrap();
    let env = [
        ("AUR_LOCATION", aur.url.clone()),
        ("REPOCTL_WORK_DIR", dir.join("work").to_string()),
        ("GITHUB_ACTIONS", "true".into()),
    ];
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");

    let stdout = String::from_utf8_lossy(&out.stdout);
    let row = |base: &str| stdout.lines().find(|l| l.starts_with(&format!("{base} "))).unwrap_or_default().to_string();
    assert!(row("broken").contains("FAILED"), "{all}");
    assert!(row("needs-broken").contains("skipped") && row("needs-broken").contains("broken"), "{all}");
    for good in ["hello", "libfoo", "foo-app"] {
        assert!(row(good).contains("built"), "{good}: {all}");
    }
    // The tail of the failing log, and where the whole log is.
    assert!(stdout.contains("upstream tarball layout changed"), "no log tail: {all}");
    let logs = glob_logs(&dir.join("work"), "broken");
    assert_eq!(logs.len(), 1);
    assert!(stdout.contains(logs[0].to_str().unwrap()), "the log path is not named: {all}");
    // Under GitHub Actions the failure is an annotation on the line that listed it (needs-broken
    // is listed; broken is only its dependency, so it gets a plain annotation).
    // Workflow commands go to stderr, which the runner reads too: stdout stays the summary.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.lines().any(|l| l.starts_with("::error::broken failed to build")), "{all}");
    // What the build printed reaches the CI log only with workflow commands switched off, and
    // never with terminal escapes outside the collapsed log group.
    let mut stopped: Option<String> = None;
    for line in stdout.lines().chain(stderr.lines()) {
        match &stopped {
            Some(token) if line == format!("::{token}::") => stopped = None,
            Some(_) => {}
            None if line.starts_with("::stop-commands::") => {
                stopped = Some(line.trim_start_matches("::stop-commands::").to_string())
            }
            None => {
                assert!(!line.contains("add-mask") || !line.starts_with("::"), "injected command: {line}");
                assert!(!line.contains('\u{1b}'), "terminal escape in the output: {line:?}");
            }
        }
    }
    assert!(stdout.contains(": :add-mask::nothing-to-see") && stdout.contains("red text"), "{all}");

    let pacman = Pacman::new("mixed", &format!("file://{}", dir.join("repo")));
    let mut names: Vec<String> = pacman.list("mixed").into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(names, ["foo-app", "hello", "libfoo"]);
    let install = pacman.run(&["-S", "--noconfirm", "hello", "foo-app"]);
    assert!(install.status.success(), "{}", text(&install));
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// repo.yaml's limits: a build past its timeout is stopped, its container removed, and it fails
/// alone; memory and CPU limits are what the build's cgroup says.
#[test]
fn builds_run_within_their_time_memory_and_cpu_limits() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    for f in ["slow", "limits-probe"] {
        aur.push_fixture(f);
    }
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!(
            "name: limited\nbuilder:\n  image: {TESTBED_IMAGE}\n  jobs: 2\n  memory: 1GiB\n  timeout: 20m\n\
packages:\n  - name: slow\n    timeout: 20s\n  - name: limits-probe\n    memory: 768MiB\n    cpus: 0.5\n"
        ),
    )
    .unwrap();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let slow = stdout.lines().find(|l| l.starts_with("slow ")).unwrap_or_default();
    assert!(slow.contains("FAILED") && slow.contains("timeout of 20s"), "{all}");
    assert!(stdout.contains("waiting forever..."), "the log tail of the stopped build is shown: {all}");
    assert_eq!(repoctl_containers(), 0, "the timed-out build's container was left behind");

    let pacman = Pacman::new("limited", &format!("file://{}", dir.join("repo")));
    let names: Vec<String> = pacman.list("limited").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["limits-probe"]);
    let install = pacman.run(&["-S", "--noconfirm", "limits-probe"]);
    assert!(install.status.success(), "{}", text(&install));
    let read =
        |f: &str| std::fs::read_to_string(pacman.installed_file(&format!("usr/share/limits-probe/{f}"))).unwrap();
    assert_eq!(read("memory").trim(), (768u64 << 20).to_string(), "the package's memory limit overrides builder's");
    let cpu: Vec<u64> = read("cpu").split_whitespace().map(|n| n.parse().unwrap()).collect();
    assert_eq!(cpu[0] * 2, cpu[1], "cpus: 0.5 is half of each scheduling period: {cpu:?}");
}

/// Caches that make repeated builds cheap: a pkgbase's SRCDEST survives between runs (a Docker
/// volume per pkgbase), and the runs leave no image of their own behind (only the synced image,
/// which the next run reuses).
#[test]
fn sources_are_cached_between_runs_and_run_images_do_not_pile_up() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("cache-probe");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(&config, format!("name: cached\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - cache-probe\n"))
        .unwrap();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];
    let volume =
        repoctl::build::source_cache_volume(&repoctl::docker::work_dir_label(&dir.join("work")), "cache-probe");
    let _ = std::process::Command::new("docker").args(["volume", "rm", "-f", &volume]).output();
    let mut counts = Vec::new();
    for run in 0..2 {
        let out_dir = dir.join(format!("out{run}"));
        let out = repoctl(&["build", "--no-publish", "--out", out_dir.as_str(), "--config", config.as_str()], &env);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let pkg = std::fs::read_dir(&out_dir).unwrap().flatten().map(|e| e.path()).find(|p| is_package(p));
        let pkg = pkg.expect("a package file");
        let listing = std::process::Command::new("bsdtar")
            .args(["-xOf", pkg.to_str().unwrap(), "usr/share/cache-probe/builds"])
            .output()
            .unwrap();
        counts.push(String::from_utf8_lossy(&listing.stdout).trim().to_string());
    }
    assert_eq!(counts, ["1", "2"], "the second run did not see the first run's SRCDEST");
    assert_eq!(superseded_images(), Vec::<String>::new(), "a run's image was left behind");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
    let _ = std::process::Command::new("docker").args(["volume", "rm", "-f", &volume]).output();
}

/// A VCS package: its AUR version says nothing about upstream, so `build` runs its pkgver() in a
/// container. No upstream commit: nothing is rebuilt. A new upstream commit: rebuilt, published
/// at the new version, and the old file deleted.
#[test]
fn vcs_packages_are_rebuilt_when_upstream_moves() {
    use std::process::Command;
    let Some(_docker) = docker() else { return };
    let sh = |dir: &camino::Utf8Path, script: &str| {
        let out = Command::new("sh").arg("-c").arg(script).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "{script}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let (_t, dir) = tempdir();
    // Upstream: a git repository served over dumb HTTP on the Docker bridge's gateway, which
    // build containers reach because repo.yaml allows it (`allow_host`).
    let gateway = crate::support::bridge_gateway();
    let served = dir.join("served");
    std::fs::create_dir_all(&served).unwrap();
    sh(
        &dir,
        &format!(
            "git init -q --bare --initial-branch=main {served}/upstream.git && git clone -q {served}/upstream.git work"
        ),
    );
    let commit = |n: u32| {
        sh(
            &dir.join("work"),
            &format!(
                "echo {n} > VERSION && git add VERSION && git -c user.name=u -c user.email=u@example.org commit -q -m v{n} \
             && git push -q origin HEAD:main && git -C {served}/upstream.git update-server-info"
            ),
        );
    };
    commit(1);
    let port = std::net::TcpListener::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port();
    let mut http = Command::new("python3")
        .args(["-m", "http.server", "--bind", "0.0.0.0", &port.to_string(), "--directory", served.as_str()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && started.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // The AUR: the pkgbase's stale pkgver says r0, whatever upstream does.
    let aur = Aur::start();
    let pkg = dir.join("tool-git");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("PKGBUILD"),
        format!(
            "pkgname=tool-git\npkgver=r0.0000000\npkgrel=1\npkgdesc='VCS fixture'\narch=('any')\nlicense=('MIT')\n\
makedepends=('git')\nsource=(\"tool::git+http://{gateway}:{port}/upstream.git#branch=main\")\nsha256sums=('SKIP')\n\n\
pkgver() {{\n  cd tool\n  printf 'r%s.%s' \"$(git rev-list --count HEAD)\" \"$(git rev-parse --short=7 HEAD)\"\n}}\n\n\
package() {{\n  install -Dm644 tool/VERSION \"$pkgdir/usr/share/tool-git/VERSION\"\n}}\n"
        ),
    )
    .unwrap();
    sh(&pkg, "chmod -R a+rwX . && su nobody -s /bin/sh -c 'makepkg --printsrcinfo' > .SRCINFO");
    aur.push_dir("tool-git", &pkg);

    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!("name: vcs\nbuilder:\n  image: {TESTBED_IMAGE}\n  allow_host: [{gateway}]\nsnapshots:\n  keep: 0\npackages:\n  - tool-git\n"),
    )
    .unwrap();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work-dir").to_string())];
    let volume =
        repoctl::build::source_cache_volume(&repoctl::docker::work_dir_label(&dir.join("work-dir")), "tool-git");
    let _ = Command::new("docker").args(["volume", "rm", "-f", &volume]).output();
    let pacman = Pacman::new("vcs", &format!("file://{}", dir.join("repo")));
    let head = |n: u32| format!("r{n}.{}-1", sh(&dir.join("work"), "git rev-parse --short=7 HEAD"));

    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(pacman.list("vcs"), [("tool-git".to_string(), head(1))]);

    // Nothing moved upstream: pkgver() is asked, nothing is built or written.
    let before: Vec<_> = std::fs::read_dir(dir.join("repo")).unwrap().flatten().map(|e| e.file_name()).collect();
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to do"), "{}", text(&out));
    let after: Vec<_> = std::fs::read_dir(dir.join("repo")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(before.len(), after.len());

    // A new upstream commit: `plan` says skip, `plan --probe-vcs` asks pkgver() and says build.
    commit(2);
    let plan = |args: &[&str]| {
        let out = repoctl(&[&["plan", "--json", "--config", config.as_str()], args].concat(), &env);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (plan["packages"][0]["action"].as_str().unwrap().to_string(), plan["packages"][0]["reason"].to_string())
    };
    assert_eq!(plan(&[]).0, "skip");
    let (action, reason) = plan(&["--probe-vcs"]);
    assert_eq!(action, "build", "{reason}");
    assert!(reason.contains(&head(2)), "the probed version is shown: {reason}");
    assert!(superseded_images().is_empty(), "plan --probe-vcs left an image behind");
    assert!(crate::support::pins().is_empty(), "plan --probe-vcs left its pin behind");
    // Rebuilt at the new version, the old file gone.
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("VCS upstream moved"), "{}", text(&out));
    assert_eq!(pacman.list("vcs"), [("tool-git".to_string(), head(2))]);
    let files: Vec<String> = std::fs::read_dir(dir.join("repo"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pkg.tar.zst"))
        .collect();
    assert_eq!(files.len(), 1, "the old package file was not deleted: {files:?}");
    assert_eq!(repoctl_containers(), 0, "containers left behind");

    // With `vcs_interval: 1d`, upstream moving again is not asked about within the day: the
    // run stops before Docker (not "VCS packages included"), and the plan says why.
    let published = head(2);
    commit(3);
    let yaml = format!(
        "name: vcs\nbuilder:\n  image: {TESTBED_IMAGE}\n  vcs_interval: 1d\n  allow_host: [{gateway}]\npackages:\n  - tool-git\n"
    );
    std::fs::write(&config, &yaml).unwrap();
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("nothing to do: the repository is up to date\n"), "{}", text(&out));
    assert!(text(&out).contains("checked again after vcs_interval 1d"), "{}", text(&out));
    assert_eq!(pacman.list("vcs"), [("tool-git".to_string(), published.clone())]);
    // `plan --json` gives the deferred check as data: what pkgver() made, and when.
    let out = repoctl(&["plan", "--json", "--config", config.as_str()], &env);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = &json["packages"][0]["vcs_check"];
    assert_eq!(check["upstream"], published.as_str(), "{json}");
    assert_eq!(check["interval_secs"], 86_400, "{json}");
    let last = check["last_checked"].as_str().and_then(repoctl::lock::parse_rfc3339).expect("RFC 3339");
    let next = check["next_check"].as_str().and_then(repoctl::lock::parse_rfc3339).expect("RFC 3339");
    assert_eq!(next - last, 86_400, "{json}");
    // An entry's own interval wins: `0s` asks every run, and pkgver() sees the new commit.
    std::fs::write(&config, yaml.replace("  - tool-git\n", "  - name: tool-git\n    vcs_interval: 0s\n")).unwrap();
    let (action, reason) = plan(&["--probe-vcs"]);
    assert_eq!(action, "build", "{reason}");
    assert!(reason.contains(&head(3)), "{reason}");
    let _ = http.kill();
    let _ = http.wait();
    let _ = Command::new("docker").args(["volume", "rm", "-f", &volume]).output();
}

/// A package file, not its `.sig` or `.provenance.json` beside it.
fn is_package(path: &std::path::Path) -> bool {
    repoctl::alpm::is_package_file(&path.file_name().unwrap_or_default().to_string_lossy())
}
