//! The Atom feed of package updates (issue 29): `NAME.atom` beside the page, one entry per
//! pkgname version published, newest first, each with the AUR commit it was built from and its
//! build log. A feed reader subscribed to it sees what changed in the repository without
//! reading the page.
//!
//! The format is Atom 1.0 (RFC 4287): the feed has an `id`, `title`, `updated`, `author` and a
//! `self` link; each entry an `id` (the package file's URL: one file name per pkgname version,
//! never reused), `title`, `updated`, a `text` summary, an `alternate` link to its build log
//! when it has one and a `related` link to its AUR commit. Every string is escaped for XML
//! ([`crate::ui::escape::xml`]). What it lists is kept in the status object
//! ([`super::status::RepoStatus::feed`]), written with it under the same lock.
use crate::ui::escape::xml;

/// The most entries the feed (and the status object's record of it) holds.
pub const MAX_ENTRIES: usize = 100;

/// `NAME.atom`: the feed of the repository `repo`.
pub fn object_name(repo: &str) -> String {
    format!("{repo}.atom")
}

/// One pkgname version published.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Published {
    pub pkgname: String,
    /// `[epoch:]pkgver-pkgrel`.
    pub version: String,
    pub pkgbase: String,
    /// The package file's name in the repository.
    pub file: String,
    /// The AUR commit it was built from (40 hex digits), from repoctl.lock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Its build log's object name ([`super::logs::object_name`]), when one was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// When it was published: RFC 3339, UTC.
    pub time: String,
}

/// `feed` with `new` before it; an older entry of a pkgname version in `new` goes (a
/// pkgname's version is published once), and the whole is cut to [`MAX_ENTRIES`].
pub fn add(feed: Vec<Published>, new: &[Published]) -> Vec<Published> {
    let fresh = |p: &Published| !new.iter().any(|n| n.pkgname == p.pkgname && n.version == p.version);
    let mut all: Vec<Published> = new.to_vec();
    all.extend(feed.into_iter().filter(fresh));
    all.truncate(MAX_ENTRIES);
    all
}

/// What the feed is made of.
pub struct Feed<'a> {
    /// The repository name.
    pub repo: &'a str,
    /// pacman's `Server` URL (no trailing slash): links and ids are made from it.
    pub server: &'a str,
    /// The AUR's web address (`AUR_LOCATION`, no trailing slash), for commit links.
    pub aur: &'a str,
    /// When the feed was written (RFC 3339, UTC): its `updated` when it lists nothing.
    pub generated: &'a str,
    /// Newest first.
    pub entries: &'a [Published],
}

/// The whole feed, an XML document.
pub fn render(feed: &Feed) -> String {
    let url = |name: &str| xml(&format!("{}/{}", feed.server, super::logs::href(name)));
    let updated = feed.entries.first().map_or(feed.generated, |e| e.time.as_str());
    let entries: String = feed.entries.iter().map(|e| entry(feed, e)).collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
<id>{self_url}</id>\n<title>{repo}: package updates</title>\n<updated>{updated}</updated>\n\
<author><name>{repo}</name></author>\n<generator version=\"{version}\">repoctl</generator>\n\
<link rel=\"self\" type=\"application/atom+xml\" href=\"{self_url}\"/>\n\
<link rel=\"alternate\" type=\"text/html\" href=\"{page}\"/>\n{entries}</feed>\n",
        self_url = url(&object_name(feed.repo)),
        repo = xml(feed.repo),
        updated = xml(updated),
        version = env!("CARGO_PKG_VERSION"),
        page = url(super::page::PAGE),
    )
}

/// One `<entry>`.
fn entry(feed: &Feed, e: &Published) -> String {
    let url = |name: &str| format!("{}/{}", feed.server, super::logs::href(name));
    let mut links = String::new();
    let mut summary = format!("{} {} (pkgbase {})", e.pkgname, e.version, e.pkgbase);
    if let Some(commit) = &e.commit {
        let branch: String = url::form_urlencoded::byte_serialize(e.pkgbase.as_bytes()).collect();
        let link = format!("{}/cgit/aur.git/commit/?h={branch}&id={commit}", feed.aur);
        links.push_str(&format!("<link rel=\"related\" type=\"text/html\" href=\"{}\"/>\n", xml(&link)));
        summary.push_str(&format!(", built from AUR commit {commit}"));
    }
    if let Some(log) = &e.log {
        links.push_str(&format!("<link rel=\"alternate\" type=\"text/plain\" href=\"{}\"/>\n", xml(&url(log))));
        summary.push_str(&format!("; build log: {}", url(log)));
    }
    format!(
        "<entry>\n<id>{id}</id>\n<title>{title}</title>\n<updated>{time}</updated>\n{links}\
<summary type=\"text\">{summary}</summary>\n</entry>\n",
        id = xml(&url(&e.file)),
        title = xml(&format!("{} {}", e.pkgname, e.version)),
        time = xml(&e.time),
        summary = xml(&summary),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn published(pkgname: &str, version: &str, time: &str) -> Published {
        Published {
            pkgname: pkgname.into(),
            version: version.into(),
            pkgbase: pkgname.into(),
            file: format!("{pkgname}-{version}-any.pkg.tar.zst"),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            log: Some(format!("logs/{pkgname}/1764460800-42.log")),
            time: time.into(),
        }
    }

    #[test]
    fn a_new_version_goes_first_and_the_feed_stays_bounded() {
        let old: Vec<Published> = (0..MAX_ENTRIES).map(|i| published(&format!("p{i}"), "1-1", "t0")).collect();
        let new = [published("p3", "1-1", "t1"), published("q", "2-1", "t1")];
        let feed = add(old, &new);
        assert_eq!(feed.len(), MAX_ENTRIES);
        assert_eq!((feed[0].pkgname.as_str(), feed[1].pkgname.as_str()), ("p3", "q"));
        assert_eq!(feed.iter().filter(|p| p.pkgname == "p3").count(), 1, "one entry per pkgname version");
    }

    #[test]
    fn the_feed_is_pinned_and_escapes_what_packages_say() {
        let mut hostile = published("lib+foo", "1:2.0-1", "2026-12-07T06:00:00Z");
        hostile.pkgbase = "lib+foo</title><script>x</script>".into();
        let entries = [hostile, published("hello", "1.0-1", "2026-12-06T06:00:00Z")];
        let feed = Feed {
            repo: "myrepo",
            server: "https://b.s3.eu-west-2.amazonaws.com/repo",
            aur: "https://aur.archlinux.org",
            generated: "2026-12-07T07:00:00Z",
            entries: &entries,
        };
        let text = render(&feed);
        assert!(!text.contains("<script>"), "{text}");
        insta::assert_snapshot!("atom_feed", text.replace(env!("CARGO_PKG_VERSION"), "[VERSION]"));
    }
}
