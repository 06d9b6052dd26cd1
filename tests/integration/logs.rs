//! Build logs beside the repository and the Atom feed (issue 29), against a bucket on moto with
//! real builds: a package that builds, one that fails (printing a GitHub stop-commands token),
//! one that cannot be built because it depends on the failing one, and one the plan blocks (it
//! depends on what no repository provides). The page and the logs
//! are opened in Debian's chromium over HTTP from the bucket, as a visitor opens them, so the
//! gzip-encoded logs are decoded by a real browser; the feed is read by feedparser.
use crate::status::fixture_with;
use crate::support::browser::dump_dom_url;
use crate::support::{Aur, S3, TESTBED_IMAGE, docker, repo_root, repoctl, tempdir, text};
use camino::Utf8Path;
use std::io::Read;

const BUCKET: &str = "logs-bucket";
/// What broken's build() prints after `::stop-commands::`: it must not reach the published log.
const TOKEN: &str = "pkgbuild-stop-token-7f3a";
/// A line broken's build() prints, which its published log must hold.
const FAILURE: &str = "error: upstream tarball layout changed (fixture failure)";

/// The published log objects of `pkgbase` (keys under `repo/logs/PKGBASE/`).
fn log_keys(s3: &S3, pkgbase: &str) -> Vec<String> {
    let prefix = format!("repo/logs/{pkgbase}/");
    s3.keys(BUCKET).into_iter().filter(|k| k.starts_with(&prefix)).collect()
}

/// A log object's text: its bytes are gzip (the object says `Content-Encoding: gzip`).
fn log_text(s3: &S3, key: &str) -> String {
    let head = s3.head(BUCKET, key).expect("the log object");
    assert_eq!(head.content_type, "text/plain; charset=utf-8", "{key}");
    assert_eq!(head.content_encoding, "gzip", "{key}");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&s3.get(BUCKET, key)[..]).read_to_string(&mut text).expect("gzip text");
    text
}

#[test]
fn logs_are_published_beside_the_repository_linked_from_the_page_and_kept_n_per_package() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    s3.create_bucket(BUCKET);
    let aur = Aur::start();
    aur.push_fixture("hello");
    aur.push_fixture("needs-broken");
    let (_b, broken) = tempdir();
    fixture_with("broken", &broken, |l| match l.contains("::add-mask::") {
        true => {
            format!("{l}\n  echo '::stop-commands::{TOKEN}'\n  echo '::error::inside the stop'\n  echo '::{TOKEN}::'")
        }
        false => l.to_string(),
    });
    aur.push_dir("broken", &broken);
    // orphan depends on what no repository provides: the plan blocks it.
    let (_o, orphan) = tempdir();
    fixture_with("hello", &orphan, |l| match l {
        "license=('MIT')" => format!("{l}\ndepends=('no-such-dependency')"),
        "\tlicense = MIT" => format!("{l}\n\tdepends = no-such-dependency"),
        l => l.replace("hello", "orphan"),
    });
    aur.push_dir("orphan", &orphan);
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    let yaml = format!(
        "name: lg\ns3:\n  bucket: {BUCKET}\n  prefix: repo\n  endpoint: {}\n  acl: public-read\n\
builder:\n  image: {TESTBED_IMAGE}\nlogs:\n  keep: 1\npackages:\n  - hello\n  - broken\n  - needs-broken\n  - orphan\n",
        s3.endpoint
    );
    std::fs::write(&config, &yaml).unwrap();
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));

    // 1. hello builds, broken fails, needs-broken is skipped: each has one log.
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let first: Vec<Vec<String>> = ["hello", "broken", "needs-broken"].map(|b| log_keys(&s3, b)).to_vec();
    assert!(first.iter().all(|k| k.len() == 1), "one log each: {first:?}");
    check_logs(&s3, &first[0][0], &first[1][0], &first[2][0]);
    let object: serde_json::Value = serde_json::from_slice(&s3.get(BUCKET, "repo/lg.status.json")).unwrap();
    let broken_log = first[1][0].trim_start_matches("repo/");
    assert_eq!(object["packages"]["broken"]["log"], broken_log, "{object}");
    assert_eq!(object["packages"]["broken"]["logs"], serde_json::json!([broken_log]), "{object}");
    assert_eq!(
        (object["packages"]["orphan"]["result"].as_str(), object["packages"]["orphan"]["kind"].as_str()),
        (Some("skipped"), Some("blocked")),
        "{object}"
    );
    let said = format!("==> broken not built: log at {}/{BUCKET}/repo/{broken_log}", s3.endpoint);
    assert!(text(&out).contains(&said), "the run names the published log:\n{}", text(&out));
    check_page(&s3, first[0][0].trim_start_matches("repo/"), broken_log);
    check_feed(&s3, &dir, &aur.url, first[0][0].trim_start_matches("repo/"));

    // 2. Again, with `keep: 1`: broken and needs-broken get new logs and lose the old ones,
    // after the status object stopped listing them; hello is not rebuilt and keeps its log.
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(log_keys(&s3, "hello"), first[0]);
    for (base, old) in [("broken", &first[1]), ("needs-broken", &first[2])] {
        let now = log_keys(&s3, base);
        assert!(now.len() == 1 && now != *old, "{base}: {old:?} then {now:?}");
    }
    let object: serde_json::Value = serde_json::from_slice(&s3.get(BUCKET, "repo/lg.status.json")).unwrap();
    assert_eq!(object["packages"]["broken"]["logs"].as_array().map(Vec::len), Some(1), "{object}");
    assert_eq!(object["packages"]["hello"]["logs"][0], first[0][0].trim_start_matches("repo/"), "{object}");
}

/// The logs say what the user saw: repoctl's lines and makepkg's output, the failure's own
/// line, and none of the stop-commands token; no line would start a workflow command.
fn check_logs(s3: &S3, hello: &str, broken: &str, skipped: &str) {
    let hello = log_text(s3, hello);
    assert!(hello.contains("==> repoctl: makepkg (as builder)") && hello.contains("Finished making"), "{hello}");
    let broken = log_text(s3, broken);
    assert!(broken.contains(FAILURE) && broken.contains("compiling broken..."), "{broken}");
    assert!(!broken.contains(TOKEN), "the stop-commands token was published:\n{broken}");
    assert!(broken.contains("==> repoctl: removed a stop-commands workflow command and its token"), "{broken}");
    assert!(broken.contains("[workflow command, not run] ::add-mask::nothing-to-see"), "{broken}");
    for line in broken.split(['\n', '\r']) {
        assert!(!line.trim_start().starts_with("::") && !line.contains("##["), "a live command: {line:?}");
    }
    let skipped = log_text(s3, skipped);
    assert!(skipped.contains("needs-broken was not built: its dependency broken failed to build"), "{skipped}");
}

/// The page over HTTP in chromium: the failure is listed with its reason and log, the failed
/// and the built package link their logs, and following a log link shows its text (the
/// browser decodes the gzip).
fn check_page(s3: &S3, hello_log: &str, broken_log: &str) {
    let base = format!("{}/{BUCKET}/repo", s3.endpoint);
    let dom = dump_dom_url(&format!("{base}/index.html"), (1280, 900));
    let failures = dom.split("<table id=\"failures\">").nth(1).and_then(|t| t.split("</table>").next());
    let failures = failures.unwrap_or_else(|| panic!("no failures table:\n{dom}"));
    let row = |base: &str| failures.split("<tr>").find(|r| r.starts_with(&format!("<td>{base}</td>"))).unwrap_or("");
    let broken = row("broken");
    assert!(broken.contains("<td>failed (makepkg)</td>"), "{failures}");
    assert!(broken.contains("makepkg failed with exit code"), "{failures}");
    assert!(broken.contains(&format!("<a href=\"{broken_log}\">log</a>")), "{failures}");
    assert!(row("needs-broken").contains("its dependency broken failed to build"), "{failures}");
    let orphan = row("orphan");
    assert!(orphan.contains("<td>skipped (blocked)</td>") && orphan.contains("no-such-dependency"), "{failures}");
    assert!(orphan.contains("<a href=\"logs/orphan/"), "{failures}");
    assert!(row("hello").is_empty(), "hello was built: {failures}");
    let packages = dom.split("<table id=\"packages\">").nth(1).unwrap_or_default();
    assert!(packages.contains(&format!("<a href=\"{hello_log}\">log</a>")), "{packages}");
    let log = dump_dom_url(&format!("{base}/{broken_log}"), (1280, 900));
    assert!(log.contains(FAILURE), "the browser does not show the log as text:\n{log}");
}

/// `lg.atom` is Atom 1.0 as feedparser reads it (well-formed, every required element), with
/// one entry for hello 1.0-1 linking its log and its AUR commit.
fn check_feed(s3: &S3, dir: &Utf8Path, aur: &str, hello_log: &str) {
    let head = s3.head(BUCKET, "repo/lg.atom").expect("the feed");
    assert_eq!(head.content_type, "application/atom+xml");
    let path = dir.join("lg.atom");
    std::fs::write(&path, s3.get(BUCKET, "repo/lg.atom")).unwrap();
    let out = std::process::Command::new("python3")
        .arg(repo_root().join("tests/support/feed_read.py"))
        .arg(&path)
        .output()
        .expect("python3 with feedparser (scripts/testbed.sh installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let feed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("feed_read.py prints JSON");
    assert_eq!((feed["version"].as_str(), feed["bozo"].as_bool()), (Some("atom10"), Some(false)), "{feed}");
    assert_eq!(feed["missing"], serde_json::json!([]), "{feed}");
    let entries = feed["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "only hello was published: {feed}");
    assert_eq!(entries[0]["title"], "hello 1.0-1", "{feed}");
    let links: Vec<(&str, &str)> = entries[0]["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["rel"].as_str().unwrap_or(""), l["href"].as_str().unwrap_or("")))
        .collect();
    let base = format!("{}/{BUCKET}/repo", s3.endpoint);
    assert!(links.contains(&("alternate", &format!("{base}/{hello_log}"))), "{feed}");
    assert!(links.iter().any(|(rel, href)| *rel == "related" && href.starts_with(&format!("{aur}/cgit/"))), "{feed}");
}

/// A local directory holds a log as plain text (a web server sends it as it is: gzip there
/// would reach the browser as binary data), linked from the page by a relative link that
/// resolves to it, and the feed beside the page.
#[test]
fn a_local_directory_holds_its_logs_as_plain_text_beside_the_page() {
    let Some(_docker) = docker() else { return };
    let bed = crate::support::Bed::empty();
    bed.aur.push_fixture("hello");
    let yaml = format!("name: loc\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n");
    std::fs::write(&bed.config, yaml).unwrap();
    let out = bed.run("build", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let repo = bed.repo();
    let object: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.join("loc.status.json")).unwrap()).unwrap();
    let log = object["packages"]["hello"]["log"].as_str().expect("hello's log").to_string();
    let text = std::fs::read_to_string(repo.join(&log)).expect("the log, as UTF-8 text");
    assert!(text.starts_with("==> repoctl: ") && text.contains("Finished making"), "{text}");
    let dom = crate::support::browser::dump_dom(&repo.join("index.html"), "");
    assert!(dom.contains(&format!("<a href=\"{log}\">log</a>")), "{dom}");
    assert!(!dom.contains("<table id=\"failures\">"), "nothing failed: {dom}");
    assert!(repo.join("loc.atom").is_file());
}
