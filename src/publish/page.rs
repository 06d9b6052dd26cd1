//! The repository page (issue 15): `index.html` beside the sync database, one self-contained
//! file (inline CSS and script, nothing fetched from elsewhere) that tells a visitor what the
//! repository is and how to use it: its name, the pacman.conf lines (the target's public URL,
//! the `SigLevel` that fits its signing), the builds that failed or did not run with their
//! reasons and logs (issue 29), the daily snapshots pacman can read (`[NAME-YYYYMMDD]`), and a
//! table of its packages, each linking its last build log, with a filter.
//!
//! Every string that comes from a package (pkgdesc, names, versions: text written by AUR
//! maintainers) is escaped ([`crate::ui::escape::html`]); the script reads the table, not data spliced into it.
//! The page is written after the database it describes, through the same [`super::Target`].
use super::status::{BuildResult, PackageStatus, RepoStatus};
use crate::alpm::RepoEntry;
use crate::official::Unsatisfied;
use crate::ui::escape::html as escape;

/// The page's object name, beside `NAME.db`.
pub const PAGE: &str = "index.html";

/// `sha256:` and hex of what the page is made from besides the database's entries and the
/// status object: the public URL, the signing key, the AUR address, repoctl's version (a
/// new repoctl may render it otherwise) and the packages that do not install
/// ([`Page::uninstallable`]: the official repositories change under an unchanged database).
/// Recorded as [`super::status::RepoStatus::page`].
pub fn inputs_key(server: &str, signing_key: Option<&str>, aur: &str, uninstallable: &[Unsatisfied]) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    // "page-4": build logs and failed builds, then daily snapshots (issue 29); a repository
    // described by an older page gets them.
    for part in ["page-4", env!("CARGO_PKG_VERSION"), server, signing_key.unwrap_or(""), aur] {
        hash.update(part.as_bytes());
        hash.update(b"\0");
    }
    for u in uninstallable {
        for part in [&u.pkgname, &u.version, &u.dependency] {
            hash.update(part.as_bytes());
            hash.update(b"\0");
        }
    }
    format!("sha256:{:x}", hash.finalize())
}

/// What the page shows.
pub struct Page<'a> {
    /// The repository name (`[NAME]` in pacman.conf).
    pub repo: &'a str,
    /// pacman's `Server` URL: the target's public URL ([`super::Target::public_url`]).
    pub server: &'a str,
    /// The signing key's fingerprint (uppercase hex, as repo.yaml's `sign.key`), when the
    /// repository is signed.
    pub signing_key: Option<&'a str>,
    /// The AUR's web address (`AUR_LOCATION`, no trailing slash): packages link to
    /// `AUR/packages/PKGNAME`.
    pub aur: &'a str,
    /// The live database's entries.
    pub entries: &'a [RepoEntry],
    /// The status object written with this page, for the AUR commit of each package.
    pub status: Option<&'a RepoStatus>,
    /// When the page was made: RFC 3339, UTC.
    pub generated: &'a str,
    /// The packages that do not install: a dependency neither the official repositories nor
    /// this one provide (issue 26). Shown above the table.
    pub uninstallable: &'a [Unsatisfied],
    /// The daily snapshots pacman can read (`NAME-YYYYMMDD`, newest first,
    /// [`super::history::daily_repo`]): listed with their pacman.conf sections.
    pub dailies: &'a [String],
}

/// The table scrolls inside its box (`.wide`) rather than widening the page; names, versions,
/// sizes, dates and commits never wrap (a break at their `-` read as a break mid-word), only
/// descriptions do. Checked in chromium at 390, 800 and 1280 px (issue 29).
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}\
pre{background:#f4f4f4;padding:.8rem;overflow-x:auto}.wide{overflow-x:auto}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd;vertical-align:top;white-space:nowrap}\
#packages td:nth-child(3){white-space:normal;min-width:14rem}\
td.num{text-align:right}code{font-size:.9em}input{font-size:1rem;padding:.3rem;width:20rem;max-width:100%;box-sizing:border-box}";

/// The filter: hides rows whose text does not contain the input's (case-insensitive), and
/// starts from `?q=` in the page's URL, so a link can show a filtered table.
const SCRIPT: &str = "(function(){var i=document.getElementById('filter');\
var rows=document.querySelectorAll('#packages tbody tr');\
function apply(){var q=i.value.trim().toLowerCase();var shown=0;\
rows.forEach(function(r){var hit=r.textContent.toLowerCase().indexOf(q)>=0;r.hidden=!hit;if(hit)shown++;});\
document.getElementById('shown').textContent=shown;}\
var q=new URLSearchParams(window.location.search).get('q');if(q!==null)i.value=q;\
i.addEventListener('input',apply);apply();})();";

/// The whole page.
pub fn render(page: &Page) -> String {
    let repo = escape(page.repo);
    let mut entries: Vec<&RepoEntry> = page.entries.iter().collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let rows: String = entries.iter().map(|e| row(e, page.status, page.aur)).collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{repo}: a pacman repository</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
<h1>{repo}</h1>\n<p>A pacman repository of AUR packages built by repoctl. {count} package(s); \
page made {generated}.</p>\n<h2>Using it</h2>\n{usage}\
{dailies}{uninstallable}{failures}<h2>Packages</h2>\n<p><label>Filter: <input id=\"filter\" type=\"search\" placeholder=\"name, version, description\"></label> \
<span id=\"shown\">{count}</span> shown</p>\n\
<div class=\"wide\"><table id=\"packages\">\n<thead><tr><th>Package</th><th>Version</th><th>Description</th><th>Size</th>\
<th>Built</th><th>AUR</th><th>AUR commit</th><th>Log</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table></div>\n\
<script>{SCRIPT}</script>\n</body>\n</html>\n",
        count = entries.len(),
        generated = escape(page.generated),
        usage = usage(page),
        dailies = dailies(page),
        uninstallable = uninstallable(page.uninstallable),
        failures = failures(page.status),
    )
}

/// The "Not built" section: each pkgbase whose last build failed or was skipped (a dependency
/// failed; kind `blocked`: the plan could not build it; kind `held`: not locked in
/// repoctl.lock), with its reason and build log, from the status object; nothing when there is
/// none.
fn failures(status: Option<&RepoStatus>) -> String {
    let failed: Vec<(&String, &PackageStatus)> =
        status.iter().flat_map(|s| &s.packages).filter(|(_, p)| p.result != BuildResult::Built).collect();
    if failed.is_empty() {
        return String::new();
    }
    let rows: String = failed
        .iter()
        .map(|(base, p)| {
            let result = match &p.kind {
                Some(kind) => format!("{} ({kind})", p.result.as_str()),
                None => p.result.as_str().to_string(),
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(base),
                escape(&result),
                escape(p.version.as_deref().unwrap_or("-")),
                escape(p.reason.as_deref().unwrap_or("-")),
                escape(&p.time),
                log_link(p.log.as_deref()),
            )
        })
        .collect();
    format!(
        "<h2>Not built</h2>\n<p>The last build of these failed, or did not run because a dependency failed or the plan \
blocked it, or it is held (not locked in repoctl.lock); a published version, if any, stays in the table below.</p>\n<div class=\"wide\"><table id=\"failures\">\n\
<thead><tr><th>Package</th><th>Result</th><th>Version</th><th>Reason</th><th>When</th><th>Log</th></tr></thead>\n\
<tbody>\n{rows}</tbody>\n</table></div>\n"
    )
}

/// A link to a published build log ([`super::logs`]), relative to the page; `-` without one.
fn log_link(log: Option<&str>) -> String {
    match log {
        Some(log) => format!("<a href=\"{}\">log</a>", escape(&super::logs::href(log))),
        None => "-".to_string(),
    }
}

/// The "Not installable" section: one line per missing dependency; nothing when there is none.
fn uninstallable(missing: &[Unsatisfied]) -> String {
    if missing.is_empty() {
        return String::new();
    }
    let items: String = missing
        .iter()
        .map(|u| {
            format!(
                "<li><code>{}</code> {} depends on <code>{}</code>, which no repository provides</li>\n",
                escape(&u.pkgname),
                escape(&u.version),
                escape(&u.dependency)
            )
        })
        .collect();
    format!(
        "<h2>Not installable</h2>\n<p>pacman cannot install these: a dependency is in neither the official repositories nor this one.</p>\n<ul id=\"uninstallable\">\n{items}</ul>\n"
    )
}

/// The pacman.conf lines, with the key steps first when the repository is signed.
fn usage(page: &Page) -> String {
    let repo = escape(page.repo);
    let server = escape(page.server);
    match page.signing_key {
        Some(key) => {
            let key = escape(key);
            format!(
                "<p>Packages and the database are signed with the key <code id=\"key\">{key}</code>. \
Get the public key from the maintainer (over a channel you trust), then on each machine:</p>\n\
<pre>sudo pacman-key --add KEYFILE.asc\nsudo pacman-key --lsign-key {key}</pre>\n\
<p>and add to <code>/etc/pacman.conf</code>:</p>\n\
<pre id=\"pacman-conf\">[{repo}]\nSigLevel = Required DatabaseRequired\nServer = {server}</pre>\n"
            )
        }
        None => format!(
            "<p>Add to <code>/etc/pacman.conf</code>:</p>\n\
<pre id=\"pacman-conf\">[{repo}]\nSigLevel = Optional TrustAll\nServer = {server}</pre>\n\
<p>This repository is not signed: anyone who can change what this server holds can change what gets installed.</p>\n"
        ),
    }
}

/// The "Daily snapshots" section: each day's last publish as a repository of its own at the
/// same server, for pinning a machine to a day (`[NAME-YYYYMMDD]`); nothing when there is none.
fn dailies(page: &Page) -> String {
    if page.dailies.is_empty() {
        return String::new();
    }
    let server = escape(page.server);
    let siglevel = if page.signing_key.is_some() { "Required DatabaseRequired" } else { "Optional TrustAll" };
    let items: String = page.dailies.iter().map(|d| format!("<li><code>[{}]</code></li>\n", escape(d))).collect();
    let first = escape(&page.dailies[0]);
    format!(
        "<h3>Daily snapshots</h3>\n<p>The repository as the last publish of each day (UTC) left it, kept as long as \
its history (<code>repoctl history</code>). To hold a machine at a day, use its section instead of <code>[{repo}]</code>:</p>\n\
<ul id=\"dailies\">\n{items}</ul>\n<pre>[{first}]\nSigLevel = {siglevel}\nServer = {server}</pre>\n",
        repo = escape(page.repo)
    )
}

/// One package's table row.
fn row(entry: &RepoEntry, status: Option<&RepoStatus>, aur: &str) -> String {
    let name = escape(&entry.name);
    // Only pkgbases repoctl built from the AUR link there: `publish DIR` may carry others.
    let aur = match status.is_some_and(|s| s.packages.contains_key(&entry.base)) {
        true => format!("<a href=\"{}\">AUR</a>", escape(&format!("{aur}/packages/{}", entry.name))),
        false => "-".to_string(),
    };
    let commit = commit_of(entry, status).map_or_else(|| "-".to_string(), |c| format!("<code>{}</code>", escape(c)));
    let log = log_link(status.and_then(|s| s.packages.get(&entry.base)?.logs.first()).map(String::as_str));
    format!(
        "<tr><td>{name}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{aur}</td><td>{commit}</td><td>{log}</td></tr>\n",
        escape(&entry.version),
        escape(entry.desc.as_deref().unwrap_or("")),
        entry.csize.map_or_else(|| "-".to_string(), human_size),
        entry.build_date.map_or_else(|| "-".to_string(), |t| escape(&crate::lock::rfc3339(t))),
    )
}

/// The AUR commit the published version of `entry` was built from: the status object's last
/// build of its pkgbase, when that made this version.
fn commit_of<'a>(entry: &RepoEntry, status: Option<&'a RepoStatus>) -> Option<&'a str> {
    let built = status?.packages.get(&entry.base)?.built.as_ref()?;
    (built.version == entry.version).then_some(built.commit.as_deref()?)
}

/// Bytes as a person reads them (`1.5 MiB`).
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, desc: &str) -> RepoEntry {
        RepoEntry {
            name: name.into(),
            base: name.into(),
            version: "1.0-1".into(),
            filename: format!("{name}-1.0-1-any.pkg.tar.zst"),
            desc: Some(desc.into()),
            csize: Some(1536),
            build_date: Some(1764460800),
            ..RepoEntry::default()
        }
    }

    #[test]
    fn markup_in_a_pkgdesc_is_shown_as_text() {
        let entries = [entry("evil", "<script>alert('x')</script> & \"more\"")];
        let page = Page {
            repo: "myrepo",
            server: "https://b.s3.eu-west-2.amazonaws.com/repo",
            signing_key: None,
            aur: "https://aur.archlinux.org",
            entries: &entries,
            status: None,
            generated: "2026-11-30T00:00:00Z",
            uninstallable: &[],
            dailies: &[],
        };
        let html = render(&page);
        assert_eq!(html.matches("<script>").count(), 1, "only the page's own script:\n{html}");
        assert!(!html.contains(" src=") && !html.contains("<link"), "self-contained: nothing loaded from elsewhere");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"), "{html}");
        assert!(html.contains("<td class=\"num\">1.5 KiB</td><td>2025-11-30T00:00:00Z</td>"), "{html}");
        assert!(html.contains("SigLevel = Optional TrustAll\nServer = https://b.s3.eu-west-2.amazonaws.com/repo"));
    }

    #[test]
    fn a_signed_repository_requires_signatures_and_names_its_key() {
        let key = "0123456789ABCDEF0123456789ABCDEF01234567";
        let page = Page {
            repo: "r",
            server: "file:///srv/r",
            signing_key: Some(key),
            aur: "https://aur.archlinux.org",
            entries: &[],
            status: None,
            generated: "now",
            uninstallable: &[],
            dailies: &[],
        };
        let html = render(&page);
        assert!(html.contains("[r]\nSigLevel = Required DatabaseRequired\nServer = file:///srv/r</pre>"), "{html}");
        assert!(html.contains(&format!("pacman-key --lsign-key {key}")), "{html}");
    }

    #[test]
    fn sizes_read_as_a_person_reads_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }

    #[test]
    fn a_package_that_does_not_install_is_named_with_its_missing_dependency() {
        let missing = [Unsatisfied {
            pkgname: "usestool".into(),
            pkgbase: "usestool".into(),
            version: "1.0-1".into(),
            dependency: "old<tool>".into(),
        }];
        let page = Page {
            repo: "r",
            server: "file:///srv/r",
            signing_key: None,
            aur: "https://aur.archlinux.org",
            entries: &[],
            status: None,
            generated: "now",
            uninstallable: &missing,
            dailies: &[],
        };
        let html = render(&page);
        assert!(html.contains("<li><code>usestool</code> 1.0-1 depends on <code>old&lt;tool&gt;</code>"), "{html}");
        let key = |u: &[Unsatisfied]| inputs_key("file:///srv/r", None, "https://aur.archlinux.org", u);
        assert_ne!(key(&missing), key(&[]), "a change in what installs rewrites the page");
    }

    #[test]
    fn failed_and_skipped_builds_are_listed_with_their_reason_and_log_and_rows_link_logs() {
        use crate::publish::status::{BuildResult, PackageStatus, RunRef};
        let status_of = |result: BuildResult, reason: &str, log: &str| PackageStatus {
            result,
            kind: (result == BuildResult::Failed).then(|| "makepkg".into()),
            reason: Some(reason.into()),
            version: Some("1.0-1".into()),
            commit: None,
            time: "2026-12-07T06:00:00Z".into(),
            run: "1764460800-42".into(),
            duration_secs: None,
            built: None,
            log: Some(log.into()),
            logs: vec![log.into()],
            linkage: None,
        };
        let hostile = "evil<img src=x onerror=alert(1)>";
        let results = std::collections::BTreeMap::from([
            (
                "lib+foo".to_string(),
                status_of(BuildResult::Failed, "makepkg failed with exit code 4", "logs/lib+foo/1.log"),
            ),
            (
                hostile.to_string(),
                status_of(BuildResult::Skipped, "its dependency <b>x</b> failed", "logs/evil\"/1.log"),
            ),
            ("hello".to_string(), status_of(BuildResult::Built, "-", "logs/hello/1.log")),
        ]);
        let run = RunRef { id: "1764460800-42".into(), time: "2026-12-07T06:00:00Z".into() };
        let status = RepoStatus::merge(None, "r", run, None, &results, &[]);
        let entries = [entry("hello", "greets")];
        let page = Page {
            repo: "r",
            server: "file:///srv/r",
            signing_key: None,
            aur: "https://aur.archlinux.org",
            entries: &entries,
            status: Some(&status),
            generated: "now",
            uninstallable: &[],
            dailies: &[],
        };
        let html = render(&page);
        assert!(!html.contains("<img") && !html.contains("<b>"), "{html}");
        assert!(html.contains("<td><a href=\"logs/hello/1.log\">log</a></td></tr>"), "the row links its log: {html}");
        let section = html.split("<h2>Not built</h2>").nth(1).and_then(|s| s.split("<h2>").next()).unwrap_or_default();
        insta::assert_snapshot!("page_not_built", section);
    }
}
