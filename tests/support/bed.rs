//! One repository's world for a test: its own AUR stand-in, a temporary directory holding
//! repo.yaml and the work directory, and the published repository at `DIR/repo` (a local
//! target that pacman reads with `file://`). Tests add their own methods (`impl Bed` in their
//! module) for the packages they push and the repo.yaml they write.
use super::{Aur, Pacman, repoctl, repoctl_as_is, tempdir};
use camino::Utf8PathBuf;
use std::process::Output;

pub struct Bed {
    pub aur: Aur,
    pub dir: Utf8PathBuf,
    pub config: Utf8PathBuf,
    _tmp: tempfile::TempDir,
}

impl Bed {
    /// An empty AUR and an empty directory; repo.yaml is the test's to write.
    pub fn empty() -> Bed {
        let aur = Aur::start();
        let (tmp, dir) = tempdir();
        Bed { aur, config: dir.join("repo.yaml"), dir, _tmp: tmp }
    }

    /// The environment every command of this bed runs with: its AUR and work directory.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [("AUR_LOCATION", self.aur.url.clone()), ("REPOCTL_WORK_DIR", self.dir.join("work").to_string())]
    }

    /// `repoctl COMMAND --config repo.yaml ARGS`, the AUR's heads locked first as
    /// [`repoctl`] does for `build`, `plan` and `review`.
    pub fn run(&self, command: &str, args: &[&str]) -> Output {
        repoctl(&self.args(command, args), &self.env())
    }

    /// `repoctl COMMAND --config repo.yaml ARGS` and nothing before it: for tests of the lock.
    pub fn run_as_is(&self, command: &str, args: &[&str]) -> Output {
        repoctl_as_is(&self.args(command, args), &self.env())
    }

    fn args<'a>(&'a self, command: &'a str, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec![command, "--config", self.config.as_str()];
        all.extend_from_slice(args);
        all
    }

    /// The published repository's directory.
    pub fn repo(&self) -> Utf8PathBuf {
        self.dir.join("repo")
    }

    /// pacman reading the published repository NAME.
    pub fn pacman(&self, name: &str) -> Pacman {
        Pacman::new(name, &format!("file://{}", self.repo()))
    }
}
