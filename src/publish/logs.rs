//! Build logs published beside the repository (issue 29): `logs/PKGBASE/RUN.log`, in the same
//! target as the database, so that "why did last night's build fail" is one click from the
//! page, not a CI artifact to dig out.
//!
//! - **What is in one.** The run's log of the pkgbase (`runs/RUN/logs/PKGBASE.log` in the work
//!   directory): repoctl's own `==> repoctl:` lines and everything makepkg and pacman printed in
//!   the containers, as the user saw it. Secrets never reach a container, so none is in it.
//!   GitHub workflow commands in it are neutralised ([`crate::ui::escape::published_log`]).
//! - **How it is stored.** On S3, gzip-compressed with `Content-Encoding: gzip` and
//!   `Content-Type: text/plain; charset=utf-8`: a browser (and `curl --compressed`) decompresses
//!   it and shows text. In a local directory, as plain text: a web server serving the directory
//!   sends a file named `.log` as it is, with no `Content-Encoding`, so gzip bytes there would
//!   reach the browser as a download of binary data ([`super::Target::upload_log`]).
//! - **How long.** The status object lists each pkgbase's published logs, newest first
//!   ([`super::status::PackageStatus::logs`]), at most `logs.keep` of them; a log it no longer
//!   lists is deleted after the status object that dropped it is written, as a package file is
//!   deleted after the database that dropped it is committed.
use super::{PublishError, Target};
use camino::{Utf8Path, Utf8PathBuf};

/// The folder every log is under, beside `NAME.db`.
pub const DIR: &str = "logs";

/// The most of a local log that is published (the build caps its log at 64 MiB; this leaves
/// room for the marker that says so).
const MAX_PUBLISHED_BYTES: u64 = crate::build::MAX_LOG_BYTES + 4096;

/// Whether `name` is a log's object name as [`object_name`] makes one: `logs/`, one segment,
/// `/`, one segment ending in `.log`, neither empty, `.` nor `..`. Only such names are ever
/// deleted as dropped logs: a name in a status object or a shard's results file comes from
/// outside, and `NAME.db` or a package file must never be taken for a log.
pub fn is_log_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    let segment = |s: &str| !s.is_empty() && s != "." && s != "..";
    matches!(parts.as_slice(), [dir, base, file] if *dir == DIR && segment(base) && segment(file) && file.ends_with(".log") && file.len() > 4)
}

/// `logs/PKGBASE/RUN.log`: the object name of `pkgbase`'s log of run `run_id`.
pub fn object_name(pkgbase: &str, run_id: &str) -> String {
    format!("{DIR}/{pkgbase}/{run_id}.log")
}

/// A link to the object `name` from a page at the repository's root: each `/`-separated
/// segment percent-encoded but for `A-Z a-z 0-9 * - . _` (url's `form_urlencoded`, with a
/// space as `%20`, not `+`), so that a pkgbase with `+` is read as `+` (S3 reads a raw `+` in a
/// path as a space) and nothing in a name ends the attribute it is written in.
pub fn href(name: &str) -> String {
    let segment = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    name.split('/').map(segment).collect::<Vec<_>>().join("/")
}

/// Publishes `pkgbase`'s log of run `run_id`, read from the local file `local` (at most
/// [`MAX_PUBLISHED_BYTES`] of it), its workflow commands neutralised
/// ([`crate::ui::escape::published_log`]) and written to `scratch` first. Returns the
/// object name. Errors: the local file cannot be read or written, or the target fails.
pub async fn publish(
    target: &dyn Target,
    pkgbase: &str,
    run_id: &str,
    local: &Utf8Path,
    scratch: &Utf8Path,
) -> Result<String, PublishError> {
    use std::io::Read;
    let io = |path: &Utf8Path| {
        let path = path.to_owned();
        move |source| PublishError::Io { path: path.clone(), source }
    };
    let mut bytes = Vec::new();
    fs_err::File::open(local).and_then(|f| f.take(MAX_PUBLISHED_BYTES).read_to_end(&mut bytes)).map_err(io(local))?;
    let text = crate::ui::escape::published_log(&String::from_utf8_lossy(&bytes));
    let dir: Utf8PathBuf = scratch.join(DIR);
    fs_err::create_dir_all(&dir).map_err(io(&dir))?;
    let path = dir.join(format!("{pkgbase}.log"));
    fs_err::write(&path, text).map_err(io(&path))?;
    let name = object_name(pkgbase, run_id);
    target.upload_log(&name, &path).await?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_links() {
        assert_eq!(object_name("lib+foo", "1764460800-42"), "logs/lib+foo/1764460800-42.log");
        assert_eq!(href("logs/lib+foo/1-2.log"), "logs/lib%2Bfoo/1-2.log");
        assert_eq!(href("logs/a@b \"x\"/1.log"), "logs/a%40b%20%22x%22/1.log");
    }

    /// The attacker review's F2: a shard's results file (or a status object) naming `NAME.db` or a
    /// package file as a log must not get it deleted when the log is dropped.
    #[test]
    fn only_log_names_are_log_names() {
        assert!(is_log_name(&object_name("lib+foo", "1764460800-ab12-42")));
        for name in [
            "NAME.db",
            "foo-1-1-any.pkg.tar.zst",
            "logs/foo.log",
            "logs/../NAME.db",
            "logs/foo/../../NAME.db",
            "logs/../x.log",
            "logs/foo/.log",
            "logs/foo/bar/x.log",
            "other/foo/x.log",
            "logs/foo/x.txt",
        ] {
            assert!(!is_log_name(name), "{name}");
        }
    }
}
