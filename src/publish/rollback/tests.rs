//! Rollback against a local directory, signed with the test key: a kept snapshot comes back,
//! one written without the key does not, nor one whose package files are gone.
use super::*;
use crate::pgp::Fingerprint;
use crate::publish::LocalTarget;
use base64::Engine;

const SECRET: &str = include_str!("../../../tests/fixtures/signing/secret-key.asc");
const PRIMARY: &str = include_str!("../../../tests/fixtures/signing/fingerprint");

fn signer() -> Signer {
    Signer::new(SECRET, &Fingerprint::parse(PRIMARY).unwrap(), "").unwrap()
}

struct Quiet;
impl Reporter for Quiet {
    fn total(&self, _: usize) {}
    fn phase(&self, _: &str, _: crate::ui::Phase) {}
    fn done(&self, _: &str, _: bool, _: &str) {}
    fn step(&self, _: &str) {}
}

/// A sync database (an uncompressed tar, as repo-add can write) listing `name` at `version`
/// in the file with `bytes`, its `%PGPSIG%` by `signer` when given.
fn database(name: &str, version: &str, bytes: &[u8], signer: Option<&Signer>) -> Vec<u8> {
    use sha2::Digest;
    let mut desc = format!(
        "%FILENAME%\n{name}-{version}-any.pkg.tar.zst\n\n%NAME%\n{name}\n\n%BASE%\n{name}\n\n%VERSION%\n{version}\n\n%SHA256SUM%\n{:x}\n\n",
        sha2::Sha256::digest(bytes)
    );
    if let Some(signer) = signer {
        let sig = signer.sign_bytes(bytes).unwrap();
        desc.push_str(&format!("%PGPSIG%\n{}\n\n", base64::engine::general_purpose::STANDARD.encode(sig)));
    }
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(desc.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, format!("{name}-{version}/desc"), desc.as_bytes()).unwrap();
    builder.into_inner().unwrap()
}

struct Bed {
    _tmp: tempfile::TempDir,
    dir: Utf8PathBuf,
    target: LocalTarget,
    signer: Signer,
}

impl Bed {
    fn new() -> Bed {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).unwrap();
        let target = LocalTarget::new(dir.join("repo"));
        Bed { _tmp: tmp, dir, target, signer: signer() }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Utf8PathBuf {
        let path = self.dir.join("local").join(name.replace('/', "_"));
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(&path, bytes).unwrap();
        path
    }

    async fn put(&self, name: &str, bytes: &[u8]) {
        self.target.upload(name, &self.write(name, bytes)).await.unwrap();
    }

    /// A snapshot `id` of `db` as a publish keeps it, signed by `sig` (the test key's signature
    /// of `db` when None).
    async fn snapshot(&self, id: &str, db: &[u8], sig: Option<Vec<u8>>) {
        let sig = sig.unwrap_or_else(|| self.signer.sign_bytes(db).unwrap());
        let (db_path, sig_path) = (self.write(&format!("{id}.db"), db), self.write(&format!("{id}.sig"), &sig));
        let record = Record {
            format: history::FORMAT,
            id: id.into(),
            time: "2026-12-07T02:00:00Z".into(),
            run: "run".into(),
            database: signed::digest_of(db),
            added: Vec::new(),
            removed: Vec::new(),
            rollback_to: None,
        };
        let kept = Kept { db: &db_path, files: &db_path, sigs: Some((&sig_path, &sig_path)) };
        history::keep(&self.target, "r", &record, &kept, None, &self.dir.join("scratch")).await.unwrap();
    }

    async fn live(&self, db: &[u8]) {
        self.put("r.db", db).await;
        self.put("r.db.sig", &self.signer.sign_bytes(db).unwrap()).await;
    }

    async fn rollback(&self, id: &str, lock: &crate::lock::Lock) -> Result<Outcome, PublishError> {
        let history = History::none();
        let request = Request { repo: "r", id, signer: Some(&self.signer), history: &history, lock, run_id: "run-2" };
        super::rollback(&self.target, &request, &self.dir.join(format!("work-{id}")), &Quiet).await
    }

    fn live_db(&self) -> Vec<u8> {
        fs_err::read(self.dir.join("repo/r.db")).unwrap()
    }
}

const OLD: &str = "20261206T020000.000Z-0000aaaa";

fn lock_at(version: &str) -> crate::lock::Lock {
    let entry = crate::lock::Entry {
        name: "hello".into(),
        path: None,
        git: None,
        commit: "c".repeat(40),
        version: version.into(),
        pkgnames: vec!["hello".into()],
        maintainer: None,
        comaintainers: Vec::new(),
        committed: "2026-12-07T00:00:00Z".into(),
        files: format!("tree-sha256:{}", "0".repeat(64)),
        patches: Vec::new(),
    };
    crate::lock::Lock { entries: [("hello".to_string(), entry)].into() }
}

#[tokio::test]
async fn a_kept_snapshot_comes_back_and_what_it_took_away_is_held() {
    let bed = Bed::new();
    let old = database("hello", "1.0-1", b"hello 1", Some(&bed.signer));
    let new = database("hello", "2.0-1", b"hello 2", Some(&bed.signer));
    bed.put("hello-1.0-1-any.pkg.tar.zst", b"hello 1").await;
    bed.snapshot(OLD, &old, None).await;
    bed.live(&new).await;

    let outcome = bed.rollback(OLD, &lock_at("2.0-1")).await.expect("rolled back");
    assert_eq!(bed.live_db(), old);
    let kept_sig = fs_err::read(bed.dir.join(format!("repo/history/{OLD}/r.db.sig"))).unwrap();
    assert_eq!(fs_err::read(bed.dir.join("repo/r.db.sig")).unwrap(), kept_sig, "its own signature, not a new one");
    assert_eq!(fs_err::read(bed.dir.join("repo/r.files")).unwrap(), old);
    let v = |version: &str| history::PkgVersion { pkgname: "hello".into(), version: version.into() };
    assert_eq!((outcome.added, outcome.removed), (vec![v("1.0-1")], vec![v("2.0-1")]));
    assert_eq!(outcome.held["hello"].version, "2.0-1");
    let holds = history::read_holds(&bed.target).await.unwrap();
    assert_eq!(holds.holds["hello"].commit, "c".repeat(40));
    // The rollback is a publish of its own in the history, naming what it put back.
    let (records, _) = history::list(&bed.target).await.unwrap();
    assert_eq!(records[0].rollback_to.as_deref(), Some(OLD), "{records:?}");
    // Its record is signed: another work directory that saw `old` replaced takes it back, from
    // this rollback on; not one replaced after it (a replay).
    let digest = signed::digest_of(&old);
    let vouched = history::vouched_rollback(&bed.target, &digest, "2026-01-01T00:00:00Z", bed.signer.public()).await;
    assert_eq!(vouched.unwrap().map(|r| r.rollback_to), Some(Some(OLD.to_string())));
    let later = history::vouched_rollback(&bed.target, &digest, "2999-01-01T00:00:00Z", bed.signer.public()).await;
    assert!(later.unwrap().is_none());
    // A copy of the record without its signature vouches for nothing.
    let id = &records[0].id;
    fs_err::remove_file(bed.dir.join(format!("repo/history/{id}/record.json.sig"))).unwrap();
    let unsigned = history::vouched_rollback(&bed.target, &digest, "2026-01-01T00:00:00Z", bed.signer.public()).await;
    assert!(unsigned.unwrap().is_none());
    // Again: nothing to do.
    assert!(bed.rollback(OLD, &lock_at("2.0-1")).await.unwrap().unchanged);
}

/// Someone who can write the bucket but not sign puts a database of their own in `history/`,
/// with a record naming it and a signature copied from a real snapshot: refused, nothing written.
#[tokio::test]
async fn a_snapshot_written_without_the_key_is_not_rolled_back_to() {
    let bed = Bed::new();
    let real = database("hello", "1.0-1", b"hello 1", Some(&bed.signer));
    let live = database("hello", "2.0-1", b"hello 2", Some(&bed.signer));
    bed.put("hello-1.0-1-any.pkg.tar.zst", b"hello 1").await;
    bed.put("evil-1.0-1-any.pkg.tar.zst", b"evil").await;
    bed.live(&live).await;
    let evil = database("evil", "1.0-1", b"evil", None);
    bed.snapshot("20261206T030000.000Z-0000bbbb", &evil, Some(bed.signer.sign_bytes(&real).unwrap())).await;
    let err = bed.rollback("20261206T030000.000Z-0000bbbb", &lock_at("2.0-1")).await.unwrap_err();
    assert!(matches!(err, PublishError::UntrustedSnapshot { .. }), "{err}");
    assert!(crate::cause::chain(&err).join(": ").contains("does not verify under key"), "{err}");
    // Unsigned, with no signature at all: refused too.
    bed.snapshot("20261206T040000.000Z-0000cccc", &evil, Some(Vec::new())).await;
    fs_err::remove_file(bed.dir.join("repo/history/20261206T040000.000Z-0000cccc/r.db.sig")).unwrap();
    let err = bed.rollback("20261206T040000.000Z-0000cccc", &lock_at("2.0-1")).await.unwrap_err();
    assert!(matches!(err, PublishError::UntrustedSnapshot { .. }), "{err}");
    // A real database under a record that names other bytes: refused.
    let id = "20261206T050000.000Z-0000dddd";
    bed.snapshot(id, &real, None).await;
    bed.put(&history::object(id, "r.db"), &evil).await;
    let err = bed.rollback(id, &lock_at("2.0-1")).await.unwrap_err();
    assert!(matches!(err, PublishError::History { .. }), "{err}");
    assert_eq!(bed.live_db(), live, "nothing was written");
    assert!(history::read_holds(&bed.target).await.unwrap().holds.is_empty());
}

#[tokio::test]
async fn a_snapshot_whose_package_files_are_gone_is_refused() {
    let bed = Bed::new();
    let old = database("hello", "1.0-1", b"hello 1", Some(&bed.signer));
    let live = database("hello", "2.0-1", b"hello 2", Some(&bed.signer));
    bed.snapshot(OLD, &old, None).await;
    bed.live(&live).await;
    let err = bed.rollback(OLD, &lock_at("2.0-1")).await.unwrap_err();
    assert!(err.to_string().contains("cannot be used"), "{err}");
    assert!(matches!(&err, PublishError::History { why, .. } if why.contains("hello-1.0-1-any.pkg.tar.zst")), "{err}");
    assert_eq!(bed.live_db(), live);
}

/// A target on which another publish commits `NAME.db` just before the rollback's commit.
struct Racing {
    inner: LocalTarget,
    theirs: Vec<u8>,
}

#[async_trait::async_trait]
impl Target for Racing {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn public_url(&self) -> String {
        self.inner.public_url()
    }
    async fn fetch(&self, name: &str, limit: u64) -> Result<Option<Vec<u8>>, PublishError> {
        self.inner.fetch(name, limit).await
    }
    async fn download(&self, name: &str, dest: &Utf8Path, limit: u64) -> Result<(), PublishError> {
        self.inner.download(name, dest, limit).await
    }
    async fn upload(&self, name: &str, src: &Utf8Path) -> Result<(), PublishError> {
        self.inner.upload(name, src).await
    }
    async fn create(&self, name: &str, src: &Utf8Path) -> Result<super::super::Created, PublishError> {
        self.inner.create(name, src).await
    }
    async fn delete(&self, name: &str) -> Result<(), PublishError> {
        self.inner.delete(name).await
    }
    async fn exists(&self, name: &str) -> Result<bool, PublishError> {
        self.inner.exists(name).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, PublishError> {
        self.inner.list(prefix).await
    }
    async fn fetch_versioned(&self, name: &str, limit: u64) -> Result<Option<(Vec<u8>, String)>, PublishError> {
        self.inner.fetch_versioned(name, limit).await
    }
    async fn upload_if(&self, name: &str, src: &Utf8Path, expected: Option<&str>) -> Result<bool, PublishError> {
        if name == "r.db" {
            let theirs = src.with_file_name("theirs.db");
            fs_err::write(&theirs, &self.theirs).unwrap();
            self.inner.upload(name, &theirs).await?;
        }
        self.inner.upload_if(name, src, expected).await
    }
}

/// A publish that commits while the rollback prepares wins: the rollback writes nothing after
/// its refused commit and says so, and the publish's database, files database and holds stay.
#[tokio::test]
async fn a_publish_that_commits_first_is_not_lost() {
    let bed = Bed::new();
    let old = database("hello", "1.0-1", b"hello 1", Some(&bed.signer));
    let live = database("hello", "2.0-1", b"hello 2", Some(&bed.signer));
    let theirs = database("hello", "3.0-1", b"hello 3", Some(&bed.signer));
    bed.put("hello-1.0-1-any.pkg.tar.zst", b"hello 1").await;
    bed.snapshot(OLD, &old, None).await;
    bed.live(&live).await;
    bed.put("r.files", &theirs).await;
    let racing = Racing { inner: LocalTarget::new(bed.dir.join("repo")), theirs: theirs.clone() };
    let history = History::none();
    let lock = lock_at("2.0-1");
    let request =
        Request { repo: "r", id: OLD, signer: Some(&bed.signer), history: &history, lock: &lock, run_id: "r" };
    let err = super::rollback(&racing, &request, &bed.dir.join("work-race"), &Quiet).await.unwrap_err();
    assert!(matches!(err, PublishError::RollbackRace { .. }), "{err}");
    assert!(err.to_string().contains("changed while rolling back"), "{err}");
    assert_eq!(bed.live_db(), theirs, "the other publish's database stays");
    assert_eq!(fs_err::read(bed.dir.join("repo/r.files")).unwrap(), theirs, "and its files database");
    assert!(history::read_holds(&bed.target).await.unwrap().holds.is_empty(), "nothing is held");
    let (records, _) = history::list(&bed.target).await.unwrap();
    assert!(records.iter().all(|r| r.rollback_to.is_none()), "no rollback is recorded: {records:?}");
}
