//! A repository in a local directory, for trying repoctl on a laptop; pacman reads it with
//! `Server = file:///path`. Every write goes to a temporary file renamed into place, so a
//! reader never sees half a file.
use super::{PublishError, Target};
use async_trait::async_trait;
use camino::{Utf8Path, Utf8PathBuf};

pub struct LocalTarget {
    dir: Utf8PathBuf,
}

impl LocalTarget {
    pub fn new(dir: Utf8PathBuf) -> LocalTarget {
        LocalTarget { dir }
    }

    fn path(&self, name: &str) -> Result<Utf8PathBuf, PublishError> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(PublishError::Remote {
                op: "refusing",
                name: name.to_string(),
                target: self.describe(),
                message: "not a plain file name".into(),
            });
        }
        Ok(self.dir.join(name))
    }
}

fn io(path: &Utf8Path) -> impl Fn(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io { path: path.to_owned(), source }
}

#[async_trait]
impl Target for LocalTarget {
    fn describe(&self) -> String {
        self.dir.to_string()
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

    async fn download(&self, name: &str, dest: &Utf8Path) -> Result<(), PublishError> {
        let path = self.path(name)?;
        fs_err::copy(&path, dest).map_err(io(&path))?;
        Ok(())
    }

    async fn upload(&self, name: &str, src: &Utf8Path) -> Result<(), PublishError> {
        let path = self.path(name)?;
        fs_err::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let tmp = self.dir.join(format!(".{name}.part-{}", std::process::id()));
        fs_err::copy(src, &tmp).map_err(io(&tmp))?;
        fs_err::rename(&tmp, &path).map_err(io(&path))?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> Result<(), PublishError> {
        let path = self.path(name)?;
        match fs_err::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path)(e)),
        }
    }
}
