//! `repoctl status`, the status object and the repository page, against a bucket on moto: a
//! repository in sync, then one package drifting (a newer AUR version locked, not built) and
//! one failing; the page loaded in a real browser (chromium), its filter driven by `?q=`.
use crate::support::browser::{dump_dom, dump_dom_at};
use crate::support::{Aur, Bed, Pacman, S3, TESTBED_IMAGE, docker, repo_root, repoctl, tempdir, text};
use camino::Utf8Path;

const BUCKET: &str = "status-bucket";
/// A pkgdesc that would run in the page if it were not escaped.
const HOSTILE_DESC: &str = r#"<script>document.body.dataset.pwned="yes"</script> & "friends""#;

/// tests/fixtures/aur/NAME copied into `dir` with each line edited by `edit`.
pub(crate) fn fixture_with(name: &str, dir: &Utf8Path, edit: impl Fn(&str) -> String) {
    let fixture = repo_root().join("tests/fixtures/aur").join(name);
    for f in ["PKGBUILD", ".SRCINFO"] {
        let body = std::fs::read_to_string(fixture.join(f)).unwrap();
        let edited: Vec<String> = body.lines().map(&edit).collect();
        std::fs::write(dir.join(f), edited.join("\n") + "\n").unwrap();
    }
    if fixture.join("greeting.txt").is_file() {
        std::fs::copy(fixture.join("greeting.txt"), dir.join("greeting.txt")).unwrap();
    }
}

/// A run's id: `SECS-PID`, or `SECS-RANDOM-PID` (12 hex digits between) since run ids are unique.
fn is_run_id(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    let hex = |s: &str| s.len() == 12 && s.bytes().all(|c| c.is_ascii_hexdigit());
    match parts.as_slice() {
        [secs, pid] => secs.len() == 10 && digits(secs) && digits(pid),
        [secs, random, pid] => secs.len() == 10 && digits(secs) && hex(random) && digits(pid),
        _ => false,
    }
}

/// Volatile parts of `status` output made stable: times, run ids, the moto port.
fn stable(text: &str, endpoint: &str) -> String {
    let text = text.replace(endpoint, "http://S3");
    text.split_inclusive([' ', '\n'])
        .map(|word| {
            let core = word.trim_end_matches([' ', '\n', ':']);
            let tail = &word[core.len()..];
            if core.len() == 20 && core.as_bytes()[10] == b'T' && core.ends_with('Z') {
                format!("[TIME]{tail}")
            } else if is_run_id(core) {
                format!("[RUN]{tail}")
            } else {
                word.to_string()
            }
        })
        .collect()
}

#[test]
fn status_reports_drift_and_failures_and_the_page_lists_every_package() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    s3.create_bucket(BUCKET);
    let aur = Aur::start();
    let (_h, hostile) = tempdir();
    fixture_with("hello", &hostile, |l| {
        if l.starts_with("pkgdesc=") {
            format!("pkgdesc='{HOSTILE_DESC}'")
        } else if l.trim_start().starts_with("pkgdesc = ") {
            format!("\tpkgdesc = {HOSTILE_DESC}")
        } else {
            l.to_string()
        }
    });
    aur.push_dir("hello", &hostile);
    aur.push_fixture("libfoo");
    aur.push_fixture("broken");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    let yaml = format!(
        "name: st\ns3:\n  bucket: {BUCKET}\n  prefix: repo\n  endpoint: {}\n  acl: public-read\n\
builder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n  - libfoo\n",
        s3.endpoint
    );
    std::fs::write(&config, &yaml).unwrap();
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));
    let status = |json: bool| {
        let mut args = vec!["status", "--config", config.as_str()];
        args.extend(json.then_some("--json"));
        repoctl(&args, &env)
    };

    // 1. Built and published: in sync, exit 0; the status object and the page are there.
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = status(false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().last(), Some("in sync"), "{}", text(&out));
    let keys = s3.keys(BUCKET);
    for key in ["repo/st.status.json", "repo/index.html"] {
        assert!(keys.contains(&key.to_string()), "{key} missing: {keys:?}");
    }
    let head = s3.head(BUCKET, "repo/index.html").unwrap();
    assert_eq!((head.content_type.as_str(), head.cache_control.as_str()), ("text/html; charset=utf-8", "no-cache"));
    check_page(&s3, &dir, &aur.url);

    // 2. broken listed and built (it fails), then a newer libfoo locked but not built.
    std::fs::write(&config, yaml.replace("  - libfoo\n", "  - libfoo\n  - broken\n")).unwrap();
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (_b, bumped) = tempdir();
    fixture_with("libfoo", &bumped, |l| l.replace("pkgver=2.1", "pkgver=2.2").replace("pkgver = 2.1", "pkgver = 2.2"));
    aur.push_dir("libfoo", &bumped);
    let out = repoctl(&["update", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // 3. status says so, and exits 1.
    let out = status(false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    insta::assert_snapshot!("status_drift", stable(&String::from_utf8_lossy(&out.stdout), &s3.endpoint));
    let out = status(true);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    assert_eq!(report["verdict"]["behind"], 1, "{report}");
    assert_eq!(report["verdict"]["failed"], 1, "{report}");
    assert_eq!(report["verdict"]["in_sync"], false);
    let row =
        |base: &str| report["packages"].as_array().unwrap().iter().find(|p| p["pkgbase"] == base).unwrap().clone();
    assert_eq!((row("libfoo")["published"].clone(), row("libfoo")["locked"].clone()), ("2.1-1".into(), "2.2-1".into()));
    assert_eq!(row("broken")["last"]["kind"], "makepkg", "{report}");

    // The status object kept hello's entry from the first run: the second run did not build it.
    let object: serde_json::Value = serde_json::from_slice(&s3.get(BUCKET, "repo/st.status.json")).unwrap();
    assert_eq!(object["packages"]["hello"]["result"], "built");
    assert_ne!(object["packages"]["hello"]["run"], object["run"]["id"], "{object}");
    assert_eq!(object["packages"]["broken"]["result"], "failed");

    // 4. Issue 29: broken, never published, leaves repo.yaml: its entry leaves the status object.
    std::fs::write(&config, &yaml).unwrap();
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let object: serde_json::Value = serde_json::from_slice(&s3.get(BUCKET, "repo/st.status.json")).unwrap();
    assert!(object["packages"].get("broken").is_none(), "{object}");
    assert_eq!(object["packages"]["hello"]["result"], "built", "{object}");
}

/// The published page in chromium: every package of the database (as Debian's pacman lists it)
/// is a row, the hostile pkgdesc is text and did not run, `?q=` filters the rows, and AUR links
/// go to the AUR the packages were built from.
fn check_page(s3: &S3, dir: &Utf8Path, aur: &str) {
    let page = dir.join("index.html");
    std::fs::write(&page, s3.get(BUCKET, "repo/index.html")).unwrap();
    let server = format!("{}/{BUCKET}/repo", s3.endpoint);
    let mut published: Vec<String> = Pacman::new("st", &server).list("st").into_iter().map(|(n, _)| n).collect();
    published.sort();
    assert_eq!(published, ["hello", "libfoo"]);

    let dom = dump_dom(&page, "");
    assert!(dom.contains(&format!("[st]\nSigLevel = Optional TrustAll\nServer = {server}</pre>")), "{dom}");
    assert!(!dom.contains("data-pwned"), "the pkgdesc's script ran:\n{dom}");
    assert!(
        dom.contains("&lt;script&gt;document.body.dataset.pwned=\"yes\"&lt;/script&gt; &amp; \"friends\""),
        "{dom}"
    );
    assert_eq!(rows(&dom), published.iter().map(|n| (n.clone(), true)).collect::<Vec<_>>());
    // Links go to the AUR the packages came from (AUR_LOCATION), by pkgname.
    assert!(dom.contains(&format!("href=\"{aur}/packages/libfoo\"")), "{dom}");

    let filtered = dump_dom(&page, "q=LIBF");
    assert_eq!(rows(&filtered), [("hello".to_string(), false), ("libfoo".to_string(), true)], "{filtered}");
    assert!(filtered.contains("<span id=\"shown\">1</span>"), "{filtered}");
}

/// The package table's rows: (pkgname, shown).
fn rows(dom: &str) -> Vec<(String, bool)> {
    let body = dom.split("<tbody>").nth(1).and_then(|b| b.split("</tbody>").next()).unwrap_or_default();
    body.split("<tr")
        .skip(1)
        .map(|row| {
            let name = row.split("<td>").nth(1).and_then(|c| c.split("</td>").next()).unwrap_or_default();
            (name.to_string(), !row.starts_with(" hidden"))
        })
        .collect()
}

/// The shard path: `build --no-publish --out DIR` leaves its results in DIR, and `publish DIR`
/// records them (a failure included) in the status object of a local directory, whose page
/// gives pacman a `file://` server.
fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

#[test]
fn a_shards_results_reach_the_status_object_through_publish() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::empty();
    bed.aur.push_fixture("hello");
    bed.aur.push_fixture("broken");
    std::fs::write(
        &bed.config,
        format!("name: shard\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n  - broken\n"),
    )
    .unwrap();
    let dist = bed.dir.join("dist");
    let out = bed.run("build", &["--no-publish", "--out", dist.as_str()]);
    assert_eq!(out.status.code(), Some(1), "broken fails: {}", text(&out));
    assert!(!bed.repo().exists(), "--no-publish wrote the repository");
    // Issue 29: the shard's logs travel in DIR; a log no locked pkgbase of its results names
    // (or a link to a secret) is not published.
    let shard_log = std::fs::read_to_string(dist.join("logs/broken.log")).unwrap_or_default();
    assert!(shard_log.contains("==> repoctl:"), "the shard's log of broken in DIR: {shard_log:?}");
    std::fs::write(dist.join("logs/stray.log"), "not a build log\n").unwrap();
    std::os::unix::fs::symlink(&bed.config, dist.join("logs/linked.log")).unwrap();
    let out = bed.run("publish", &[dist.as_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let published: Vec<String> = std::fs::read_dir(bed.repo().join("logs"))
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    assert_eq!(sorted(published), ["broken", "hello"], "one folder per built pkgbase");

    let object: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bed.repo().join("shard.status.json")).unwrap()).unwrap();
    assert_eq!(object["packages"]["hello"]["result"], "built", "{object}");
    assert_eq!(object["packages"]["hello"]["version"], "1.0-1", "{object}");
    assert_eq!(object["packages"]["broken"]["result"], "failed", "{object}");
    let page = std::fs::read_to_string(bed.repo().join("index.html")).unwrap();
    assert!(page.contains(&format!("Server = file://{}</pre>", bed.repo())), "{page}");
    for base in ["hello", "broken"] {
        let log = object["packages"][base]["log"].as_str().unwrap_or_else(|| panic!("{base}'s log: {object}"));
        assert!(page.contains(&format!("<a href=\"{log}\">log</a>")), "the page links {log}: {page}");
        let text = std::fs::read_to_string(bed.repo().join(log)).unwrap();
        assert!(text.contains("==> repoctl:"), "{log}: {text}");
    }
    let out = bed.run("status", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().last(), Some("1 failed"), "{}", text(&out));
}

/// What the probe appended to a page reports, as `data-` attributes of its body: whether the
/// page is wider than the window, and the cells (other than descriptions) whose text runs over
/// more than one line.
const PROBE: &str = "<script>(function(){var b=document.body;\
b.dataset.overflow=document.documentElement.scrollWidth>window.innerWidth?'yes':'no';\
var broken=[];document.querySelectorAll('#packages td').forEach(function(td){if(td.cellIndex===2)return;\
var r=document.createRange();r.selectNodeContents(td);var tops={};\
Array.prototype.forEach.call(r.getClientRects(),function(x){tops[Math.round(x.top)]=1;});\
if(Object.keys(tops).length>1)broken.push(td.textContent);});b.dataset.broken=broken.join('|');})();</script>";

/// Issue 29: at 800 px the table overflowed and names and dates broke mid-word; on a phone
/// (390 px, checked in chromium) the page must not be wider than the screen either.
#[test]
fn the_page_fits_a_phone_and_keeps_names_and_dates_whole() {
    use repoctl::alpm::RepoEntry;
    use repoctl::publish::status::{BuildResult, PackageStatus, RepoStatus, RunRef};
    let entry = |name: &str| RepoEntry {
        name: name.into(),
        base: name.into(),
        version: "1:2.34.5.r1234.g0123abc-12".into(),
        filename: format!("{name}-1:2.34.5.r1234.g0123abc-12-x86_64.pkg.tar.zst"),
        desc: Some("A long description of what the package does, in several words that wrap normally".into()),
        csize: Some(123_456_789),
        build_date: Some(1_764_460_800),
        ..RepoEntry::default()
    };
    let entries = [entry("python-very-long-package-name-git"), entry("lib32-another-rather-long-name")];
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let results = entries
        .iter()
        .map(|e| {
            let built = PackageStatus {
                result: BuildResult::Built,
                kind: None,
                reason: None,
                version: Some(e.version.clone()),
                commit: Some(commit.into()),
                time: "2026-12-07T00:00:00Z".into(),
                run: "1".into(),
                built: None,
                linkage: None,
                duration_secs: None,
                log: None,
                logs: Vec::new(),
            };
            (e.base.clone(), built)
        })
        .collect();
    let run = RunRef { id: "1".into(), time: "2026-12-07T00:00:00Z".into() };
    let status = RepoStatus::merge(None, "r", run, None, &results, &[]);
    let html = repoctl::publish::page::render(&repoctl::publish::page::Page {
        repo: "r",
        server: "https://bucket.s3.eu-west-2.amazonaws.com/repo/x86_64",
        signing_key: None,
        aur: "https://aur.archlinux.org",
        entries: &entries,
        status: Some(&status),
        uninstallable: &[],
        generated: "2026-12-07T00:00:00Z",
        dailies: &["r-20261207".to_string(), "r-20261206".to_string()],
    });
    let (_t, dir) = tempdir();
    let page = dir.join("index.html");
    std::fs::write(&page, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    for width in [390, 800, 1280] {
        let dom = dump_dom_at(&page, "", (width, 900));
        assert!(dom.contains("data-overflow=\"no\""), "wider than a {width} px window:\n{dom}");
        assert!(dom.contains("data-broken=\"\""), "cells broken over lines at {width} px:\n{dom}");
    }
}
