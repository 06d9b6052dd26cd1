//! Debian's pacman as the independent client of a published repository.
use super::process::{tempdir, text};
use camino::{Utf8Path, Utf8PathBuf};
use std::process::{Command, Output, Stdio};

/// Debian's pacman, configured as a user's machine with its own root, pointed at a repository.
pub struct Pacman {
    pub dir: Utf8PathBuf,
    _tmp: tempfile::TempDir,
}

impl Pacman {
    pub fn new(repo: &str, server: &str) -> Pacman {
        Pacman::with_siglevel(repo, server, "Never")
    }

    /// A machine that trusts only `public_key` (armored) and requires signed packages and
    /// databases: `SigLevel = Required DatabaseRequired`, the key added with pacman-key and
    /// locally signed, as the user guide tells users to do.
    pub fn signed(repo: &str, server: &str, public_key: &Utf8Path, fingerprint: &str) -> Pacman {
        let pacman = Pacman::with_siglevel(repo, server, "Required DatabaseRequired");
        let gpgdir = pacman.dir.join("gnupg");
        for args in [vec!["--init"], vec!["--add", public_key.as_str()], vec!["--lsign-key", fingerprint]] {
            let out = Command::new("pacman-key")
                .arg("--gpgdir")
                .arg(&gpgdir)
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .expect("pacman-key");
            assert!(out.status.success(), "pacman-key {args:?}: {}", text(&out));
        }
        pacman
    }

    fn with_siglevel(repo: &str, server: &str, siglevel: &str) -> Pacman {
        let (tmp, dir) = tempdir();
        for d in ["root", "db", "cache", "gnupg", "hooks"] {
            std::fs::create_dir_all(dir.join(d)).expect("mkdir");
        }
        let conf = format!(
            "[options]\nRootDir = {d}/root\nDBPath = {d}/db\nCacheDir = {d}/cache\nLogFile = {d}/pacman.log\n\
GPGDir = {d}/gnupg\nHookDir = {d}/hooks\nArchitecture = auto\nSigLevel = {siglevel}\n\n[{repo}]\nServer = {server}\n",
            d = dir
        );
        std::fs::write(dir.join("pacman.conf"), conf).expect("pacman.conf");
        Pacman { dir, _tmp: tmp }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("pacman")
            .arg("--config")
            .arg(self.dir.join("pacman.conf"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("pacman (apt-get install pacman-package-manager)")
    }

    /// `pacman -Sl repo` as (pkgname, version) pairs, after a refresh.
    pub fn list(&self, repo: &str) -> Vec<(String, String)> {
        let sync = self.run(&["-Syy"]);
        assert!(sync.status.success(), "pacman -Syy failed:\n{}", text(&sync));
        let out = self.run(&["-Sl", repo]);
        assert!(out.status.success(), "pacman -Sl failed:\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                let (_repo, name, version) = (it.next()?, it.next()?, it.next()?);
                Some((name.to_string(), version.to_string()))
            })
            .collect()
    }

    pub fn installed_file(&self, path: &str) -> Utf8PathBuf {
        self.dir.join("root").join(path.trim_start_matches('/'))
    }
}
