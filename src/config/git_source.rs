//! `git:` and `subdir:` in a package entry (issue 27): a PKGBUILD repository outside the AUR,
//! checked when repo.yaml is loaded, so that `check` refuses a bad one before anything runs.
//!
//! Only `https://` and `file://` are taken: git's other transports run programs (`ext::`, ssh)
//! or fetch in the clear (`git://`, `http://`), and a URL with a password in it would put a
//! secret in a file that pull requests show. A `file://` repository is fetched on the host, as
//! AUR clones are, never inside a build container.
use super::GitSource;

/// A problem with a `git:` entry: the message, and a hint for the person who wrote it.
pub(super) struct Refused {
    pub message: String,
    pub hint: String,
}

fn refused(message: impl Into<String>, hint: impl Into<String>) -> Refused {
    Refused { message: message.into(), hint: hint.into() }
}

/// `git:` (trimmed) and `subdir:` as a [`GitSource`], or why not.
pub(super) fn check_url(url: &str) -> Result<String, Refused> {
    let url = url.trim();
    let hint = "write the repository's https:// address (`https://example.org/me/pkgbuilds.git`), or \
`file:///path/to/repo` for one on this machine; ssh, git://, http:// and other transports are refused";
    if url.is_empty() {
        return Err(refused("`git` is empty", hint));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refused(format!("`{url}` is not a URL: it holds a space or a control character"), hint));
    }
    if let Some(rest) = url.strip_prefix("https://") {
        let host = rest.split('/').next().unwrap_or_default();
        if let Some((_, at_host)) = host.rsplit_once('@') {
            // Not said back: a diagnostic goes to CI logs.
            let shown = format!("https://***@{at_host}{}", &rest[host.len()..]);
            return Err(refused(
                format!("`{shown}` carries credentials"),
                "repo.yaml is public to whoever reads the repository: give git a credential outside it, \
or use a public address",
            ));
        }
        if host.is_empty() || rest.len() <= host.len() + 1 {
            return Err(refused(format!("`{url}` names no repository on a host"), hint));
        }
        return Ok(url.to_string());
    }
    if let Some(path) = url.strip_prefix("file://") {
        if !path.starts_with('/') || path.len() < 2 {
            return Err(refused(
                format!("`{url}` is not an absolute file:// URL"),
                "a repository on this machine is `file:///absolute/path` (three slashes)",
            ));
        }
        return Ok(url.to_string());
    }
    Err(refused(format!("`{url}` is not an https:// or file:// URL"), hint))
}

/// A `file://` URL (`url`, checked by [`check_url`]) must name a directory inside `base`,
/// repo.yaml's directory, symbolic links resolved: repo.yaml comes in pull requests, and the
/// pull-request workflow fetches what it names on the runner itself, so a `file://` repository
/// elsewhere on the runner (another checkout, a self-hosted runner's files) would be read by
/// `git upload-pack` under its own configuration and shown in the review. One inside is part
/// of the pull request. Other URLs pass unchanged.
pub(super) fn check_file_inside(url: String, base: &camino::Utf8Path) -> Result<String, Refused> {
    let Some(path) = url.strip_prefix("file://") else { return Ok(url) };
    let path = camino::Utf8Path::new(path);
    let base = base.canonicalize_utf8().unwrap_or_else(|_| base.to_owned());
    // Links resolved in the part that exists (a repository not there yet fails when fetched).
    let dir = path
        .ancestors()
        .find_map(|a| Some(a.canonicalize_utf8().ok()?.join(path.strip_prefix(a).ok()?)))
        .unwrap_or_else(|| path.to_owned());
    let lexical = !dir.components().any(|c| c == camino::Utf8Component::ParentDir);
    if lexical && dir.starts_with(&base) && dir != base {
        return Ok(url);
    }
    Err(refused(
        format!("`{url}` is outside the repository that holds repo.yaml ({base})"),
        "a file:// repository must live beside repo.yaml (its pull requests then show it); one elsewhere on this \
machine would be read by whoever can change repo.yaml: publish it at an https:// address, or copy its PKGBUILD \
directory into this repository and write `path:`",
    ))
}

/// `subdir:`: a relative path inside the repository, `/`-separated, without `..`; written back
/// without `.` components or trailing slashes.
pub(super) fn check_subdir(subdir: &str) -> Result<String, Refused> {
    let v = subdir.trim();
    let hint = "`subdir` is the PKGBUILD's directory inside the git repository, relative to its root \
(`tool2`, `pkgs/tool2`), without `..`";
    if v.is_empty() {
        return Err(refused("`subdir` is empty", "leave `subdir:` out for a PKGBUILD at the repository's root"));
    }
    if v.starts_with('/') || v.contains('\\') {
        return Err(refused(format!("`{v}` is not a relative path"), hint));
    }
    let parts: Vec<&str> = v.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
    if parts.contains(&"..") {
        return Err(refused(format!("`{v}` leads out of its directory (`..`)"), hint));
    }
    if parts.is_empty() {
        return Err(refused(format!("`{v}` is the repository's root"), "leave `subdir:` out for the root"));
    }
    if parts.iter().any(|p| p.eq_ignore_ascii_case(".git") || p.chars().any(char::is_control)) {
        return Err(refused(format!("`{v}` is not a directory git keeps files in"), hint));
    }
    Ok(parts.join("/"))
}

impl GitSource {
    /// The name an entry without `name:` gets: the subdir's last component, else the URL's
    /// last path component without `.git`.
    pub fn default_name(&self) -> String {
        if let Some(subdir) = &self.subdir {
            return subdir.rsplit('/').next().unwrap_or(subdir).to_string();
        }
        let last = self.url.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
        last.strip_suffix(".git").unwrap_or(last).to_string()
    }

    /// How messages and provenance name it: `URL` or `URL (subdir DIR)`.
    pub fn describe(&self) -> String {
        match &self.subdir {
            Some(subdir) => format!("{} (subdir {subdir})", self.url),
            None => self.url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_subdirs_are_taken_or_refused() {
        for ok in ["https://example.org/me/pkgbuilds.git", "file:///srv/pkgbuilds", " https://h/x "] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in ["http://h/x", "git@h:x.git", "ssh://h/x", "ext::sh", "https://", "https://h", "file://rel"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert_eq!(check_subdir("./a//b/").ok().as_deref(), Some("a/b"));
        for bad in ["../x", "a/../../b", "/abs", "", ".", "a/.git/b"] {
            assert!(check_subdir(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_name_is_the_subdir_else_the_repository() {
        let source = |url: &str, subdir: Option<&str>| GitSource { url: url.into(), subdir: subdir.map(String::from) };
        assert_eq!(source("https://h/me/pkgbuilds.git", Some("tools/tool2")).default_name(), "tool2");
        assert_eq!(source("https://h/me/tool3.git", None).default_name(), "tool3");
        assert_eq!(source("file:///srv/tool4/", None).default_name(), "tool4");
    }

    fn problems(packages: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        let yaml = format!("name: r\npackages:\n{packages}");
        let err = crate::config::parse(&root.join("repo.yaml"), yaml.as_bytes()).unwrap_err();
        let text = err.0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n");
        text.replace(root.as_str(), "[REPO]")
    }

    /// The bad inputs, each at its line and column with its hint.
    #[test]
    fn bad_git_entries_are_pinned() {
        let text = problems(concat!(
            "  - git: git@example.org:me/pkgbuilds.git\n",
            "  - git: http://example.org/me/pkgbuilds.git\n",
            "  - git: https://user:secret@example.org/me/pkgbuilds.git\n",
            "  - git: file://relative/repo\n",
            "  - git: ''\n",
            "  - git: https://example.org/me/pkgbuilds.git\n    subdir: ../tool2\n",
            "  - git: https://example.org/me/pkgbuilds.git\n    subdir: /srv/tool2\n",
            "  - name: foo\n    subdir: tool2\n",
            "  - git: https://example.org/me/pkgbuilds.git\n    path: pkgbuilds/x\n",
        ));
        insta::assert_snapshot!("bad_git_entries", text);
    }

    /// A good entry: named after its subdir, URL and subdir as written (trimmed, normalized).
    #[test]
    fn a_git_entry_is_named_after_its_subdir() {
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        let yaml = format!(
            "name: r\npackages:\n  - git: https://example.org/me/pkgbuilds.git\n    subdir: ./tools/tool2/\n  - name: other\n    git: file://{root}/vendor/other.git\n"
        );
        let config = crate::config::parse(&root.join("repo.yaml"), yaml.as_bytes()).unwrap();
        let git = config.packages[0].git_source().unwrap();
        assert_eq!(config.packages[0].name, "tool2");
        assert_eq!(
            (git.url.as_str(), git.subdir.as_deref()),
            ("https://example.org/me/pkgbuilds.git", Some("tools/tool2"))
        );
        assert_eq!(config.packages[1].name, "other");
        assert_eq!(config.packages[1].git_source().unwrap().subdir, None);
        assert!(crate::config::check_git_source(git).is_ok());
    }

    /// repo.yaml comes in pull requests: a file:// repository elsewhere on the runner (or
    /// reached through `..` or a symbolic link out) is refused; one beside repo.yaml is taken.
    #[test]
    fn a_file_repository_must_live_beside_repo_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        std::fs::create_dir_all(root.join("repo/vendor/x.git")).unwrap();
        std::os::unix::fs::symlink("/", root.join("repo/out")).unwrap();
        let base = root.join("repo");
        assert!(check_file_inside(format!("file://{base}/vendor/x.git"), &base).is_ok());
        assert!(check_file_inside(format!("file://{base}/not-yet.git"), &base).is_ok(), "fails when fetched");
        assert!(check_file_inside("https://h/x.git".into(), &base).is_ok());
        for bad in [
            "file:///srv/other.git".to_string(),
            format!("file://{base}"),
            format!("file://{base}/../elsewhere.git"),
            format!("file://{base}/out/srv/other.git"),
            format!("file://{root}/repo-two/x.git"),
        ] {
            let refused = check_file_inside(bad.clone(), &base).err().unwrap_or_else(|| panic!("{bad} taken"));
            assert!(refused.message.contains("is outside the repository"), "{}", refused.message);
        }
    }
}
