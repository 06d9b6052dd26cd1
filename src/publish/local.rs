//! A repository in a local directory, for trying repoctl on a laptop; pacman reads it with
//! `Server = file:///path`. Every write goes to a temporary file renamed into place, so a
//! reader never sees half a file; a package file and its companions are created with a hard
//! link, which never replaces a file that is there (issue 24, item 2). Publishers take turns
//! through a lock file (`.repoctl.lock`, flock), held while the database is committed and while
//! the status object and the page that describe it are written; the database is replaced only
//! if it still has the content that was read.
//! Names with `+` need nothing here (unlike S3, see `s3::aws_path_alias`): pacman reads a
//! `file://` server's paths literally.
use super::{Created, PublishError, Target};
use async_trait::async_trait;
use camino::{Utf8Path, Utf8PathBuf};

pub struct LocalTarget {
    dir: Utf8PathBuf,
}

impl LocalTarget {
    pub fn new(dir: Utf8PathBuf) -> LocalTarget {
        LocalTarget { dir }
    }

    /// Where the object `name` is: a file name, or plain names joined by `/` (a build log's
    /// `logs/PKGBASE/RUN.log`), none empty or starting with `.` (so never `..`, nor a
    /// temporary `.NAME.part-PID`). Errors: any other name.
    fn path(&self, name: &str) -> Result<Utf8PathBuf, PublishError> {
        if !name.split('/').all(|part| !part.is_empty() && !part.starts_with('.')) {
            return Err(PublishError::Remote {
                op: "refusing",
                name: name.to_string(),
                target: self.describe(),
                source: crate::cause::said("not a plain file name, nor plain names joined by /"),
            });
        }
        Ok(self.dir.join(name))
    }

    /// [`Self::path`] of `name` with its directory made, and a temporary name beside it for
    /// the write in progress (`.FILE.part-PID`). Errors: the name, or the directory.
    fn writing(&self, name: &str) -> Result<(Utf8PathBuf, Utf8PathBuf), PublishError> {
        let path = self.path(name)?;
        let dir = path.parent().unwrap_or(&self.dir).to_owned();
        fs_err::create_dir_all(&dir).map_err(io(&dir))?;
        let tmp = dir.join(format!(".{}.part-{}", path.file_name().unwrap_or(name), std::process::id()));
        Ok((path, tmp))
    }
}

/// The first pause between two tries of a lock another publisher holds ([`LocalTarget`]'s
/// `lock`); each pause doubles, up to [`LOCK_POLL_MAX`], so the lock is taken at most that
/// long after it is let go.
const LOCK_POLL_MIN: std::time::Duration = std::time::Duration::from_millis(10);
const LOCK_POLL_MAX: std::time::Duration = std::time::Duration::from_millis(200);

/// A version token for a local file: its content's hash.
fn content_version(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

fn io(path: &Utf8Path) -> impl Fn(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io { path: path.to_owned(), source }
}

#[async_trait]
impl Target for LocalTarget {
    fn describe(&self) -> String {
        self.dir.to_string()
    }

    /// `file://` and the absolute path, percent-encoded (a space is `%20`: pacman's
    /// `Server = file:///a b` fails to download, `file:///a%20b` works).
    fn public_url(&self) -> String {
        let dir = std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone().into_std_path_buf());
        url::Url::from_file_path(&dir).map_or_else(|()| format!("file://{}", dir.display()), String::from)
    }

    async fn fetch(&self, name: &str, limit: u64) -> Result<Option<Vec<u8>>, PublishError> {
        let path = self.path(name)?;
        match fs_err::metadata(&path) {
            Ok(meta) if meta.len() > limit => {
                Err(PublishError::TooLarge { name: name.to_string(), target: self.describe(), limit })
            }
            Ok(_) => Ok(Some(fs_err::read(&path).map_err(io(&path))?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    async fn download(&self, name: &str, dest: &Utf8Path, limit: u64) -> Result<(), PublishError> {
        use std::io::Read as _;
        let path = self.path(name)?;
        let mut from = fs_err::File::open(&path).map_err(io(&path))?.take(limit.saturating_add(1));
        let mut to = fs_err::File::create(dest).map_err(io(dest))?;
        let copied = std::io::copy(&mut from, &mut to).map_err(io(dest))?;
        if copied > limit {
            return Err(PublishError::TooLarge { name: name.to_string(), target: self.describe(), limit });
        }
        Ok(())
    }

    async fn upload(&self, name: &str, src: &Utf8Path) -> Result<(), PublishError> {
        let (path, tmp) = self.writing(name)?;
        fs_err::copy(src, &tmp).map_err(io(&tmp))?;
        fs_err::rename(&tmp, &path).map_err(io(&path))?;
        Ok(())
    }

    /// Copies `src` to a temporary name, then hard-links it to `name`: link(2) fails with
    /// EEXIST rather than replace a file, so of two publishers writing one name, one creates
    /// it and the other finds it. What is there is then compared by content.
    async fn create(&self, name: &str, src: &Utf8Path) -> Result<Created, PublishError> {
        let (path, tmp) = self.writing(name)?;
        fs_err::copy(src, &tmp).map_err(io(&tmp))?;
        let linked = fs_err::hard_link(&tmp, &path);
        let _ = fs_err::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(Created::New),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let there = content_version(&fs_err::read(&path).map_err(io(&path))?);
                let ours = content_version(&fs_err::read(src).map_err(io(src))?);
                Ok(if there == ours { Created::Same } else { Created::Other })
            }
            Err(e) => Err(io(&path)(e)),
        }
    }

    async fn fetch_versioned(&self, name: &str, limit: u64) -> Result<Option<(Vec<u8>, String)>, PublishError> {
        Ok(self.fetch(name, limit).await?.map(|bytes| {
            let version = content_version(&bytes);
            (bytes, version)
        }))
    }

    async fn upload_if(&self, name: &str, src: &Utf8Path, expected: Option<&str>) -> Result<bool, PublishError> {
        let path = self.path(name)?;
        let current = match fs_err::read(&path) {
            Ok(bytes) => Some(content_version(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&path)(e)),
        };
        if current.as_deref() != expected {
            return Ok(false);
        }
        self.upload(name, src).await?;
        Ok(true)
    }

    /// flock(2) on `DIR/.repoctl.lock`, exclusive. Asked for without blocking, again and again
    /// (every [`LOCK_POLL_MIN`], slowing to [`LOCK_POLL_MAX`]) rather than waited for on a
    /// blocking thread: a blocked flock cannot be called off, and the runtime waits for its
    /// blocking threads before the process exits, so Ctrl-C while another publisher held the
    /// lock hung until that one finished (issue 24). Dropping the future closes the file:
    /// nothing stays locked.
    async fn lock(&self) -> Result<Option<Box<dyn std::any::Any + Send>>, PublishError> {
        fs_err::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.dir.join(".repoctl.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| PublishError::Lock { path: path.clone(), source })?;
        let mut pause = LOCK_POLL_MIN;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(Box::new(file))),
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(source)) => return Err(PublishError::Lock { path, source }),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LOCK_POLL_MAX);
        }
    }

    async fn exists(&self, name: &str) -> Result<bool, PublishError> {
        Ok(self.path(name)?.is_file())
    }

    /// The files under `DIR/PREFIX`, walked, temporary files (`.NAME`) left out.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, PublishError> {
        let mut names = Vec::new();
        let mut todo = vec![self.dir.join(prefix.trim_end_matches('/'))];
        while let Some(dir) = todo.pop() {
            let entries = match fs_err::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&dir)(e)),
            };
            for entry in entries {
                let entry = entry.map_err(io(&dir))?;
                let Ok(path) = Utf8PathBuf::from_path_buf(entry.path()) else { continue };
                if path.file_name().is_some_and(|n| n.starts_with('.')) {
                    continue;
                }
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    todo.push(path);
                } else if let Ok(name) = path.strip_prefix(&self.dir) {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Removes the file; a name in a folder (`logs/PKGBASE/RUN.log`) also takes its folders
    /// with it when that leaves them empty (a removed pkgbase leaves no `logs/PKGBASE/`).
    async fn delete(&self, name: &str) -> Result<(), PublishError> {
        let path = self.path(name)?;
        match fs_err::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
        // remove_dir(2) fails on a folder that is not empty: that one stays, as do its parents.
        for dir in path.ancestors().skip(1).take_while(|d| *d != self.dir) {
            if std::fs::remove_dir(dir).is_err() {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_url_of_a_directory_is_absolute_and_percent_encoded() {
        let target = LocalTarget::new("/srv/my repos/x86_64".into());
        assert_eq!(target.public_url(), "file:///srv/my%20repos/x86_64");
        let relative = LocalTarget::new("repo".into()).public_url();
        assert!(relative.starts_with("file:///") && relative.ends_with("/repo"), "{relative}");
    }

    #[tokio::test]
    async fn a_package_file_is_created_once_and_never_replaced_with_other_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).unwrap();
        let target = LocalTarget::new(dir.join("repo"));
        let (ours, theirs) = (dir.join("ours"), dir.join("theirs"));
        fs_err::write(&ours, b"built here").unwrap();
        fs_err::write(&theirs, b"built elsewhere").unwrap();
        let name = "a-1-1-any.pkg.tar.zst";
        assert_eq!(target.create(name, &ours).await.unwrap(), Created::New);
        assert_eq!(target.create(name, &ours).await.unwrap(), Created::Same);
        assert_eq!(target.create(name, &theirs).await.unwrap(), Created::Other);
        assert_eq!(fs_err::read(dir.join("repo").join(name)).unwrap(), b"built here");
        let left: Vec<_> = fs_err::read_dir(dir.join("repo")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
    }

    #[tokio::test]
    async fn a_log_is_written_in_its_folder_and_the_folder_goes_with_the_last_log() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).unwrap();
        let target = LocalTarget::new(dir.join("repo"));
        let text = dir.join("text");
        fs_err::write(&text, "==> repoctl: makepkg\n").unwrap();
        for run in ["1", "2"] {
            target.upload_log(&format!("logs/lib+foo/{run}.log"), &text).await.unwrap();
        }
        assert_eq!(fs_err::read_to_string(dir.join("repo/logs/lib+foo/1.log")).unwrap(), "==> repoctl: makepkg\n");
        target.delete("logs/lib+foo/1.log").await.unwrap();
        assert!(dir.join("repo/logs/lib+foo").is_dir(), "2.log is still there");
        target.delete("logs/lib+foo/2.log").await.unwrap();
        assert!(!dir.join("repo/logs").exists() && dir.join("repo").is_dir());
        for bad in ["logs/../x.log", "logs//x.log", "/etc/passwd", "logs/.x.part-1"] {
            assert!(target.upload(bad, &text).await.is_err(), "{bad}");
        }
    }
}
