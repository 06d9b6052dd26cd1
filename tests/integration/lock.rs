//! repoctl.lock (issue 14): `build` builds the locked AUR commit and nothing newer; `update`
//! moves the lock, shows the diff and flags, and holds what `trust:` does not let in. Every
//! test runs the binary as a user would (`update`, then `build`), against the AUR stand-in with
//! commits dated in the past, and reads the published repository with Debian's pacman.
use crate::support::{Bed, TESTBED_IMAGE, docker, repo_root, text};
use serde_json::Value;

const DAY: i64 = 86_400;

impl Bed {
    /// repo.yaml listing `packages`, with `trust` (YAML lines under `trust:`, or empty).
    fn write_config(&self, packages: &[&str], trust: &str) {
        let mut yaml = format!("name: locked\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\n");
        if !trust.is_empty() {
            yaml.push_str(&format!("trust:\n{trust}"));
        }
        yaml.push_str("packages:\n");
        for p in packages {
            yaml.push_str(&format!("  - {p}\n"));
        }
        std::fs::write(&self.config, yaml).unwrap();
    }

    /// Pushes hello at `version` (pkgver), its greeting saying `greeting`, committed `age_days` ago.
    fn push_hello(&self, version: &str, greeting: &str, age_days: i64) {
        let src = self.dir.join(format!("src-hello-{version}"));
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
        self.aur.push_dated("hello", &src, Some(&ago(age_days)));
    }

    /// `update --json` (which must exit 0): the report.
    fn update(&self, extra: &[&str]) -> Value {
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        let out = self.run_as_is("update", &args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("update JSON: {e}\n{}", text(&out)))
    }

    fn lock(&self) -> String {
        std::fs::read_to_string(self.dir.join("repoctl.lock")).unwrap_or_default()
    }

    fn build(&self) {
        let out = self.run_as_is("build", &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }

    /// What pacman lists in the published repository.
    fn published(&self) -> Vec<(String, String)> {
        self.pacman("locked").list("locked")
    }

    /// The version of hello that pacman installs from the published repository.
    fn installed_greeting(&self) -> String {
        let pacman = self.pacman("locked");
        let out = pacman.run(&["-Sy", "--noconfirm", "hello"]);
        assert!(out.status.success(), "{}", text(&out));
        std::fs::read_to_string(pacman.installed_file("usr/share/hello/greeting.txt")).unwrap()
    }
}

/// `@SECONDS` of `days` ago, as git reads a date.
fn ago(days: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    format!("@{} +0000", now - days * DAY)
}

fn package<'a>(report: &'a Value, pkgbase: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pkgbase"] == pkgbase)
        .unwrap_or_else(|| panic!("{pkgbase} in {report:#}"))
}

fn flags(p: &Value) -> Vec<String> {
    p["flags"].as_array().unwrap().iter().map(|f| f["reason"].as_str().unwrap().to_string()).collect()
}

#[test]
fn build_publishes_the_locked_commit_until_update_shows_and_takes_the_new_one() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello from the locked commit", 10);
    bed.write_config(&["hello"], "");

    // Nothing is locked yet: nothing is built, and the plan says why.
    let out = bed.run_as_is("plan", &["--json"]);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(plan["packages"][0]["reason"], "not locked: run repoctl update", "{plan:#}");
    // Issue 29: `build` says so and what to run, and writes no page for a repository that has
    // no database.
    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("nothing to build: 1 package(s) not locked in repoctl.lock (hello)\n"), "{}", text(&out));
    assert!(said.contains("hint: `repoctl update` locks them") && !said.contains("up to date"), "{}", text(&out));
    let written: Vec<String> = std::fs::read_dir(bed.repo())
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    assert!(written.is_empty(), "nothing is published, so nothing describes it: {written:?}");

    let report = bed.update(&[]);
    assert_eq!(package(&report, "hello")["status"], "added", "{report:#}");
    assert!(flags(package(&report, "hello")).iter().any(|f| f.contains("new to the lock")), "{report:#}");
    assert!(bed.lock().contains("name = \"hello\""), "{}", bed.lock());
    bed.build();
    assert_eq!(bed.published(), [("hello".to_string(), "1.0-1".to_string())]);
    // Issue 29: naming a package published at its locked version says so and builds nothing
    // (it was rebuilt, refused at the publish and still reported "built").
    let out = bed.run_as_is("build", &["hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("hello: 1.0-1 is published, the version repoctl.lock names: not rebuilt"), "{said}");
    assert!(said.contains("nothing to do: the repository is up to date"), "{said}");
    assert!(!said.contains("file(s)") && !said.contains("from AUR commit"), "nothing is reported built: {said}");

    // A new commit lands in the AUR: build still publishes the locked one.
    bed.push_hello("2.0", "hello from a newer commit", 5);
    let lock_before = bed.lock();
    bed.build();
    assert_eq!(bed.published(), [("hello".to_string(), "1.0-1".to_string())], "the newer head is not built");

    // update --check reports the diff of every changed line, writes nothing, exits 1.
    let out = bed.run_as_is("update", &["--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    for line in ["-pkgver=1.0", "+pkgver=2.0", "-hello from the locked commit", "+hello from a newer commit"] {
        assert!(shown.lines().any(|l| l == line), "`{line}` in:\n{shown}");
    }
    assert_eq!(bed.lock(), lock_before, "--check writes nothing");

    let report = bed.update(&[]);
    let hello = package(&report, "hello");
    assert_eq!(
        (&hello["status"], &hello["from"]["version"], &hello["to"]["version"]),
        (&"updated".into(), &"1.0-1".into(), &"2.0-1".into())
    );
    assert!(hello["diff"].as_str().unwrap().contains("+hello from a newer commit"), "{report:#}");
    bed.build();
    assert_eq!(bed.installed_greeting(), "hello from a newer commit\n", "pacman installs the version the lock names");
}

#[test]
fn a_commit_younger_than_min_age_cools_down_and_the_same_commit_older_is_taken() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 1);
    bed.write_config(&["hello"], "  min_age: 3d\n");
    let report = bed.update(&[]);
    let hello = package(&report, "hello");
    assert_eq!(hello["status"], "held", "{report:#}");
    assert_eq!(hello["held"]["hold"], "cooling-down", "{report:#}");
    let out = bed.run_as_is("update", &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("held: cooling down until 20"), "{}", text(&out));
    assert!(!bed.lock().contains("hello"), "a cooling commit is not locked:\n{}", bed.lock());

    // The same commit, a day younger than the bar: taken.
    bed.write_config(&["hello"], "  min_age: 12h\n");
    let report = bed.update(&[]);
    assert_eq!(package(&report, "hello")["status"], "added", "{report:#}");
    assert!(bed.lock().contains("name = \"hello\""));
}

#[test]
fn a_held_package_is_listed_on_the_page_and_in_the_status_object_with_its_reason() {
    // Issue 29: a package `update` holds (here cooling down) is not built; the page and the
    // status object say so, and a later run with nothing new writes neither again.
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    bed.write_config(&["hello"], "");
    bed.update(&[]);
    bed.build();
    bed.aur.push_fixture("libfoo");
    bed.write_config(&["hello", "libfoo"], "  min_age: 3d\n");
    let report = bed.update(&[]);
    assert_eq!(package(&report, "libfoo")["held"]["hold"], "cooling-down", "{report:#}");

    bed.build();
    let status: Value = serde_json::from_slice(&std::fs::read(bed.repo().join("locked.status.json")).unwrap()).unwrap();
    let libfoo = &status["packages"]["libfoo"];
    assert_eq!((libfoo["result"].as_str(), libfoo["kind"].as_str()), (Some("skipped"), Some("held")), "{status:#}");
    assert!(libfoo["reason"].as_str().unwrap_or_default().starts_with("not in repoctl.lock"), "{status:#}");
    let page = std::fs::read_to_string(bed.repo().join("index.html")).unwrap();
    let failures =
        page.split("<table id=\"failures\">").nth(1).unwrap_or_else(|| panic!("no Not built table:\n{page}"));
    let row = failures.split("<tr>").find(|r| r.starts_with("<td>libfoo</td>")).unwrap_or_default();
    assert!(row.contains("<td>skipped (held)</td>") && row.contains("run `repoctl update` to review it"), "{failures}");
    assert!(row.contains("<a href=\"logs/libfoo/"), "the held package links its log: {failures}");

    let out = bed.run_as_is("build", &[]);
    assert!(text(&out).contains("are current: nothing written"), "held as before: {}", text(&out));
}

#[test]
fn a_change_of_maintainer_holds_the_package_until_it_is_accepted() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    bed.write_config(&["hello"], "");
    bed.update(&[]);
    let locked = bed.lock();
    assert!(locked.contains("maintainer = \"fixture-maintainer\""), "{locked}");

    // Adopted by someone else, who pushes at once: the takeover shape.
    bed.aur.set_maintainer("hello", Some("mallory"));
    bed.push_hello("1.1", "hello from mallory", 5);
    let report = bed.update(&[]);
    let hello = package(&report, "hello");
    assert_eq!(
        (&hello["status"], &hello["held"]["hold"]),
        (&"held".into(), &"maintainer-changed".into()),
        "{report:#}"
    );
    assert!(flags(hello).iter().any(|f| f.contains("mallory")), "{report:#}");
    assert_eq!(bed.lock(), locked, "held at the locked commit");

    // Again on the next run: a hold lasts until a person accepts.
    assert_eq!(package(&bed.update(&[]), "hello")["status"], "held");
    let report = bed.update(&["--accept", "hello"]);
    assert_eq!(package(&report, "hello")["status"], "updated", "{report:#}");
    assert!(bed.lock().contains("maintainer = \"mallory\""), "{}", bed.lock());
}

#[test]
fn a_package_deleted_from_the_aur_keeps_its_published_version_and_is_flagged() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    bed.write_config(&["hello"], "");
    bed.update(&[]);
    bed.build();
    let locked = bed.lock();

    bed.aur.delete("hello");
    let out = bed.run_as_is("update", &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(package(&report, "hello")["status"], "deleted", "{report:#}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("DELETED from the AUR"), "flagged loudly: {}", text(&out));
    assert_eq!(bed.lock(), locked, "its entry stays: removal is the user's act");

    // Listed and gone: a problem a person must act on (exit 1), and nothing is taken away.
    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gone from the AUR"), "{}", text(&out));
    // Not "up to date": the summary line a CI log shows says the package is blocked.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("nothing to build: 1 package(s) blocked (see above), the rest up to date"),
        "{}",
        text(&out)
    );
    assert_eq!(bed.published(), [("hello".to_string(), "1.0-1".to_string())], "the published version stays");
}

#[test]
fn a_lock_whose_files_do_not_match_the_aur_is_refused_before_anything_is_built() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    bed.write_config(&["hello"], "");
    bed.update(&[]);
    let lock = bed.lock();
    let hash = lock.lines().find_map(|l| l.strip_prefix("files = \"tree-sha256:")).unwrap().trim_end_matches('"');
    std::fs::write(bed.dir.join("repoctl.lock"), lock.replace(hash, &"0".repeat(64))).unwrap();
    let out = bed.run_as_is("build", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("but repoctl.lock says tree-sha256:0000"), "{}", text(&out));
    assert!(!bed.dir.join("repo/locked.db").exists(), "nothing was published");
}

/// A release-tarball package's PKGBUILD and .SRCINFO at `version`, downloaded from `host`.
fn push_tool(bed: &Bed, version: &str, host: &str, age_days: i64) {
    let src = bed.dir.join(format!("src-tool-{version}"));
    std::fs::create_dir_all(&src).unwrap();
    // A different digest per version and host, as a real release would have.
    let digest: String = format!("{version}{host}").bytes().cycle().take(32).map(|b| format!("{b:02x}")).collect();
    let pkgbuild = format!(
        "pkgname=tool\npkgver={version}\npkgrel=1\npkgdesc=\"A tool from a release tarball\"\narch=('any')\n\
url=\"https://github.com/example/tool\"\nlicense=('MIT')\nsource=(\"https://{host}/example/tool/archive/v$pkgver.tar.gz\")\n\
sha256sums=('{digest}')\n\npackage() {{\n  install -Dm644 \"$srcdir/tool-$pkgver/README\" \"$pkgdir/usr/share/doc/tool/README\"\n}}\n"
    );
    let srcinfo = format!(
        "pkgbase = tool\n\tpkgdesc = A tool from a release tarball\n\tpkgver = {version}\n\tpkgrel = 1\n\
\turl = https://github.com/example/tool\n\tarch = any\n\tlicense = MIT\n\
\tsource = https://{host}/example/tool/archive/v{version}.tar.gz\n\tsha256sums = {digest}\n\npkgname = tool\n"
    );
    std::fs::write(src.join("PKGBUILD"), pkgbuild).unwrap();
    std::fs::write(src.join(".SRCINFO"), srcinfo).unwrap();
    bed.aur.push_dated("tool", &src, Some(&ago(age_days)));
}

#[test]
fn version_only_takes_a_pure_bump_and_holds_one_that_changes_a_source_url() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.write_config(&["tool"], "  min_age: 1d\n  auto: version-only\n");
    push_tool(&bed, "1.0", "github.com", 10);
    assert_eq!(package(&bed.update(&[]), "tool")["status"], "added", "a new package is reviewed");

    // A pure bump, older than min_age: the nightly's `update --auto` takes it.
    push_tool(&bed, "1.1", "github.com", 5);
    let report = bed.update(&["--auto"]);
    let tool = package(&report, "tool");
    assert_eq!((&tool["status"], &tool["version_only"]), (&"updated".into(), &true.into()), "{report:#}");
    assert!(bed.lock().contains("version = \"1.1-1\""), "{}", bed.lock());

    // A bump that also moves the download to another host: held for review, flagged.
    push_tool(&bed, "1.2", "evil.example", 5);
    let report = bed.update(&["--auto"]);
    let tool = package(&report, "tool");
    assert_eq!((&tool["status"], &tool["held"]["hold"]), (&"held".into(), &"needs-review".into()), "{report:#}");
    assert!(flags(tool).iter().any(|f| f.contains("evil.example")), "{report:#}");
    assert!(bed.lock().contains("version = \"1.1-1\""), "held at 1.1:\n{}", bed.lock());
    // A person's `update` (the reviewed pull request) takes it, flags and all.
    let report = bed.update(&[]);
    assert_eq!(package(&report, "tool")["status"], "updated", "{report:#}");
    assert!(bed.lock().contains("version = \"1.2-1\""), "{}", bed.lock());

    // Even a pure bump waits for min_age.
    push_tool(&bed, "1.3", "evil.example", 0);
    let report = bed.update(&["--auto"]);
    assert_eq!(package(&report, "tool")["held"]["hold"], "cooling-down", "{report:#}");
}

/// A listed name the AUR does not have (a typo) cannot be locked: `update` says so on its
/// repo.yaml line, as `check` does, locks the rest, and exits 1, with `--check` too, so a
/// nightly `update --check` does not pass it by.
#[test]
fn a_listed_name_the_aur_does_not_have_fails_update_on_its_line() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    bed.write_config(&["hello", "helo"], "");
    for extra in [&["--check"][..], &[]] {
        let out = bed.run_as_is("update", extra);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("repo.yaml:8:5: package `helo` was not found in the AUR"), "{}", text(&out));
    }
    assert!(bed.lock().contains("name = \"hello\""), "the rest is locked:\n{}", bed.lock());
    assert!(!bed.lock().contains("helo\""), "{}", bed.lock());
}

/// Issue 29 ("Tried as a new user would"): `repoctl add PKG` lists the package in repo.yaml,
/// keeping the file as the user wrote it, and locks it with the AUR package it needs, after the
/// usual report; then `build` publishes both and pacman installs it. A name the AUR does not
/// have changes nothing.
#[test]
fn add_lists_a_package_and_locks_it_with_its_aur_dependencies() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    for p in ["libfoo", "foo-app"] {
        bed.aur.push_fixture(p);
    }
    bed.write_config(&["hello"], "");
    let before = std::fs::read_to_string(&bed.config).unwrap() + "# my own note\n";
    std::fs::write(&bed.config, &before).unwrap();
    bed.update(&[]);

    let out = bed.run_as_is("add", &["foo-app"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("added foo-app to") && said.contains("libfoo"), "the report names the dependency: {said}");
    let after = std::fs::read_to_string(&bed.config).unwrap();
    assert_eq!(after, before.replace("  - hello\n", "  - hello\n  - foo-app\n"), "only the entry is added");
    for base in ["hello", "libfoo", "foo-app"] {
        assert!(bed.lock().contains(&format!("name = \"{base}\"")), "{base} locked:\n{}", bed.lock());
    }
    bed.build();
    let names: Vec<String> = bed.published().into_iter().map(|(name, _)| name).collect();
    assert!(names.contains(&"foo-app".to_string()) && names.contains(&"libfoo".to_string()), "{names:?}");

    let lock = bed.lock();
    for (args, says) in [(&["helo"][..], "helo is not on the AUR"), (&["hello"][..], "hello is already listed at")] {
        let out = bed.run_as_is("add", args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(says), "{}", text(&out));
        assert_eq!(std::fs::read_to_string(&bed.config).unwrap(), after, "repo.yaml unchanged");
        assert_eq!(bed.lock(), lock, "repoctl.lock unchanged");
    }
}

/// Issue 25 item 4: a commit pushed while `update` runs (after it asked the RPC, before it
/// fetched) with a backdated commit date cools down from when the AUR received it. The
/// stand-in pushes it when the fetch starts and, as aurweb does, reports the push's time as
/// LastModified from then on.
#[test]
fn a_commit_pushed_during_update_cools_down_from_its_push() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    bed.write_config(&["hello"], "  min_age: 3d\n");
    assert_eq!(package(&bed.update(&[]), "hello")["status"], "added");
    let locked = bed.lock();

    let src = bed.dir.join("src-hello-sneaky");
    std::fs::create_dir_all(&src).unwrap();
    for file in ["PKGBUILD", ".SRCINFO"] {
        std::fs::copy(repo_root().join("tests/fixtures/aur/hello").join(file), src.join(file)).unwrap();
    }
    std::fs::write(src.join("greeting.txt"), "pushed during the update\n").unwrap();
    bed.aur.push_on_next_fetch("hello", &src, &ago(10));
    let report = bed.update(&[]);
    let hello = package(&report, "hello");
    assert_eq!(
        (&hello["status"], &hello["held"]["hold"]),
        (&"held".into(), &"cooling-down".into()),
        "a backdated commit pushed during the update is not taken:\n{report:#}"
    );
    assert_eq!(bed.lock(), locked, "held at the locked commit");
}

impl Bed {
    /// The lock's value of `key` in the entry of `pkgbase` (`committed`, `commit`, ...).
    fn locked(&self, pkgbase: &str, key: &str) -> String {
        let lock: toml::Value = toml::from_str(&self.lock()).unwrap();
        let entries = lock["pkgbase"].as_array().unwrap();
        let entry = entries.iter().find(|e| e["name"].as_str() == Some(pkgbase)).unwrap_or_else(|| panic!("{lock}"));
        entry[key].to_string()
    }
}

/// Issue 25 item 5: co-maintainers can push, so a change of them holds the package as a change
/// of maintainer does, until `--accept`, and `trust.maintainers` must name every one of them.
#[test]
fn co_maintainers_are_held_as_maintainers_are() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    bed.write_config(&["hello"], "");
    bed.update(&[]);

    // A co-maintainer added, who pushes at once.
    bed.aur.set_comaintainers("hello", &["helper"]);
    bed.push_hello("1.1", "hello from helper", 5);
    let locked = bed.lock();
    let report = bed.update(&[]);
    let hello = package(&report, "hello");
    assert_eq!(
        (&hello["status"], &hello["held"]["hold"]),
        (&"held".into(), &"comaintainers-changed".into()),
        "{report:#}"
    );
    assert_eq!(bed.lock(), locked, "held at the locked commit");
    let report = bed.update(&["--accept", "hello"]);
    assert_eq!(package(&report, "hello")["status"], "updated", "{report:#}");
    assert_eq!(bed.locked("hello", "comaintainers"), r#"["helper"]"#);

    // Another one, with no new commit: held all the same.
    bed.aur.set_comaintainers("hello", &["helper", "mallory"]);
    let report = bed.update(&[]);
    assert_eq!(package(&report, "hello")["held"]["hold"], "comaintainers-changed", "{report:#}");

    // The allowlist names the maintainer but not every co-maintainer: held, --accept or not.
    bed.write_config(&["hello"], "  maintainers: [fixture-maintainer, helper]\n");
    let report = bed.update(&["--accept", "hello"]);
    let hello = package(&report, "hello");
    assert_eq!(hello["held"]["hold"], "comaintainer-not-allowed", "{report:#}");
    assert_eq!(hello["held"]["comaintainers"], serde_json::json!(["mallory"]), "{report:#}");
    bed.write_config(&["hello"], "  maintainers: [fixture-maintainer, helper, mallory]\n");
    let report = bed.update(&["--accept", "hello"]);
    assert_eq!(package(&report, "hello")["status"], "updated", "{report:#}");
}

/// Issue 25 item 6: the guide's way to add a package (list it, `repoctl update PKG`, commit
/// both) locks its new AUR dependencies too, so the build that follows builds it.
#[test]
fn update_of_one_package_locks_its_new_aur_dependencies() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    for name in ["libfoo", "foo-app"] {
        bed.aur.push_dated(name, &repo_root().join("tests/fixtures/aur").join(name), Some(&ago(10)));
    }
    bed.write_config(&["hello"], "");
    bed.update(&[]);
    bed.write_config(&["hello", "foo-app"], "");
    let report = bed.update(&["foo-app"]);
    for name in ["foo-app", "libfoo"] {
        assert_eq!(package(&report, name)["status"], "added", "{report:#}");
    }
    bed.build();
    let mut published = bed.published();
    published.sort();
    let names: Vec<&str> = published.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["foo-app", "hello", "libfoo"], "nothing is blocked");
}

/// Issue 25 item 6: `review` links the PKGBUILD at the commit the lock names (what `build`
/// builds), not the AUR's newer head.
#[test]
fn review_links_the_locked_commit() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    bed.write_config(&["hello"], "");
    bed.update(&[]);
    let locked = bed.locked("hello", "commit").trim_matches('"').to_string();
    bed.push_hello("2.0", "hello from a newer commit", 5);
    let base = bed.dir.join("base.yaml");
    std::fs::write(
        &base,
        format!("name: locked\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\npackages: []\n"),
    )
    .unwrap();
    let out = bed.run_as_is("review", &["--base", base.as_str(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let review: Value = serde_json::from_slice(&out.stdout).unwrap();
    let package = &review["entries"][0]["package"];
    assert_eq!(package["commit"], locked.as_str(), "{review:#}");
    assert!(package["pkgbuild_url"].as_str().unwrap().ends_with(&format!("&id={locked}")), "{review:#}");
    assert_eq!(package["version"], "1.0-1", "{review:#}");
}

/// Issue 25 item 6: a move that changes only who maintains the package keeps the commit's
/// date in the lock (it was 1970: no commit lay between the locked one and the head).
#[test]
fn a_change_of_maintainer_alone_keeps_the_commit_date() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.push_hello("1.0", "hello", 10);
    bed.write_config(&["hello"], "");
    bed.update(&[]);
    let committed = bed.locked("hello", "committed");
    bed.aur.set_maintainer("hello", Some("bob"));
    let report = bed.update(&["--accept", "hello"]);
    assert_eq!(package(&report, "hello")["status"], "updated", "{report:#}");
    assert_eq!(bed.locked("hello", "maintainer"), "\"bob\"");
    assert_eq!(bed.locked("hello", "committed"), committed, "{}", bed.lock());
}
