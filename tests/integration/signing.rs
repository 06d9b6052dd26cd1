//! A signed repository, as a user with `SigLevel = Required DatabaseRequired` sees it: Debian's
//! pacman, holding only the repository's public key, installs from the bucket, keeps trusting
//! the database after a removal, and refuses a package whose bytes were swapped. And as someone
//! who can write the bucket but does not hold the key sees it: repoctl signs nothing of theirs
//! (issue 24).
use crate::support::{Aur, Pacman, S3, TESTBED_IMAGE, docker, repo_root, repoctl, tempdir, text};

const BUCKET: &str = "signed";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("tests/fixtures/signing").join(name)).expect("signing fixture")
}

fn write_config(dir: &camino::Utf8Path, s3: &S3, fingerprint: Option<&str>, packages: &[&str]) -> camino::Utf8PathBuf {
    let path = dir.join("repo.yaml");
    let list: String = packages.iter().map(|p| format!("  - {p}\n")).collect();
    let sign = fingerprint.map(|f| format!("sign:\n  key: {f}\n")).unwrap_or_default();
    std::fs::write(
        &path,
        format!(
            "name: signed\ns3:\n  bucket: {BUCKET}\n  endpoint: {}\n  acl: public-read\nbuilder:\n  image: {TESTBED_IMAGE}\n\
{sign}snapshots:\n  keep: 0\npackages:\n{list}",
            s3.endpoint
        ),
    )
    .unwrap();
    path
}

#[test]
fn pacman_with_required_signatures_installs_and_refuses_swapped_bytes() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    s3.create_bucket(BUCKET);
    let aur = Aur::start();
    aur.push_fixture("hello");
    aur.push_fixture("libfoo");
    let (_t, dir) = tempdir();
    let fingerprint = fixture("fingerprint").trim().to_string();
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));

    // A repository published unsigned, as most are today.
    let config = write_config(&dir, &s3, None, &["hello", "libfoo"]);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let unsigned = s3.keys(BUCKET);
    assert!(!unsigned.iter().any(|k| k.ends_with(".sig")), "{unsigned:?}");

    // Signing turned on, but no key in the environment: refused before anything is done, at
    // the `sign.key` line.
    write_config(&dir, &s3, Some(&fingerprint), &["hello", "libfoo"]);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("repo.yaml:9:") && stderr.contains("REPOCTL_SIGNING_KEY"), "{stderr}");
    assert_eq!(s3.keys(BUCKET), unsigned, "a refused run changed the bucket");

    // With the key: `build` never signs what the bucket holds. The unsigned database is refused,
    // saying how to take it over, and nothing is written.
    env.push(("REPOCTL_SIGNING_KEY", fixture("secret-key.asc")));
    let before = s3.objects(BUCKET);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("signed.db is not signed") && stderr.contains("repoctl sign --adopt"), "{stderr}");
    assert_eq!(s3.objects(BUCKET), before, "a refused run wrote to the bucket");

    // Taking it over is one explicit act: a dry run lists what would be signed and writes nothing.
    let out = repoctl(&["sign", "--adopt", "--dry-run", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("would sign 2 package file(s)") && stdout.contains("hello-1.0-1-x86_64.pkg.tar.zst"),
        "{stdout}"
    );
    assert_eq!(s3.objects(BUCKET), before, "a dry run wrote to the bucket");
    let out = repoctl(&["sign", "--adopt", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("every package file matches its entry's %SHA256SUM%; signed 2 package file(s)"),
        "{stdout}"
    );
    assert!(stdout.contains("libfoo-") && stdout.contains("hello-1.0-1-x86_64.pkg.tar.zst"), "{stdout}");
    let db = repoctl::alpm::read_sync_db(&s3.get(BUCKET, "signed.db")).unwrap();
    assert!(db.iter().all(|e| e.signed), "an entry without %PGPSIG% after adoption: {db:?}");
    // Then a build has nothing to do, and builds on the database it now verifies.
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let keys = s3.keys(BUCKET);
    for key in [
        "hello-1.0-1-x86_64.pkg.tar.zst.sig",
        "signed.db.sig",
        "signed.files.sig",
        "signed.db.tar.zst.sig",
        "signed.files.tar.zst.sig",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
    }

    let server = format!("{}/{BUCKET}", s3.endpoint);
    // The page, rewritten by that run, tells users to require signatures from this key.
    let page = String::from_utf8(s3.get(BUCKET, "index.html")).unwrap();
    assert!(page.contains(&format!("SigLevel = Required DatabaseRequired\nServer = {server}</pre>")), "{page}");
    assert!(page.contains(&format!("--lsign-key {fingerprint}")), "{page}");
    let public_key = repo_root().join("tests/fixtures/signing/public-key.asc");
    let pacman = Pacman::signed("signed", &server, &public_key, &fingerprint);
    let mut listed: Vec<String> = pacman.list("signed").into_iter().map(|(n, _)| n).collect();
    listed.sort();
    assert_eq!(listed, ["hello", "libfoo"]);
    let install = pacman.run(&["-S", "--noconfirm", "hello"]);
    assert!(install.status.success(), "{}", text(&install));

    // A run with nothing to do writes nothing more: no object's ETag or time moves.
    let before = s3.objects(BUCKET);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("signatures repaired"), "{}", text(&out));
    assert_eq!(s3.objects(BUCKET), before, "a run with nothing to do wrote to the bucket");

    // A removal re-signs the database: a strict client still trusts it, and the dropped
    // package's signature goes with its file.
    write_config(&dir, &s3, Some(&fingerprint), &["hello"]);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listed: Vec<String> = pacman.list("signed").into_iter().map(|(n, _)| n).collect();
    assert_eq!(listed, ["hello"], "the re-signed database is not what pacman sees");
    assert!(!s3.keys(BUCKET).iter().any(|k| k.starts_with("libfoo")), "{:?}", s3.keys(BUCKET));

    // Someone swaps the package's bytes in the bucket: a fresh machine refuses it.
    let key = "hello-1.0-1-x86_64.pkg.tar.zst";
    let mut bytes = s3.get(BUCKET, key);
    let last = bytes.len() - 1;
    bytes[last / 2] ^= 0xff;
    s3.put(BUCKET, key, bytes);
    let fresh = Pacman::signed("signed", &server, &public_key, &fingerprint);
    assert_eq!(fresh.list("signed").len(), 1);
    let install = fresh.run(&["-S", "--noconfirm", "hello"]);
    let output = text(&install);
    assert!(!install.status.success(), "pacman installed a package whose bytes were swapped:\n{output}");
    assert!(output.contains("invalid or corrupted package"), "{output}");
    assert!(!fresh.installed_file("usr/share/hello/greeting.txt").exists());
}

/// A package of the intruder's own making, as makepkg would name it: `hello` at a higher
/// pkgrel, installing their own greeting. Made by hand (`.PKGINFO` and one file, a zstd tar),
/// which is all repo-add and pacman read.
fn intruder_package(dir: &camino::Utf8Path) -> camino::Utf8PathBuf {
    let root = dir.join("intruder-root");
    std::fs::create_dir_all(root.join("usr/share/hello")).unwrap();
    std::fs::write(root.join("usr/share/hello/greeting.txt"), "owned\n").unwrap();
    std::fs::write(
        root.join(".PKGINFO"),
        "pkgname = hello\npkgbase = hello\npkgver = 1.0-2\npkgdesc = Says hello\nurl = https://example.org\n\
builddate = 1764460800\npackager = Unknown Packager\nsize = 6\narch = x86_64\nlicense = MIT\n",
    )
    .unwrap();
    let file = dir.join("hello-1.0-2-x86_64.pkg.tar.zst");
    let out = std::process::Command::new("bsdtar")
        .args(["--zstd", "-cf", file.as_str(), "-C", root.as_str(), ".PKGINFO", "usr"])
        .output()
        .expect("bsdtar");
    assert!(out.status.success(), "{}", text(&out));
    file
}

/// `db` with `package` added by the host's repo-add (Debian's, pacman 6.0.2), as whoever can
/// write the bucket would do it: the package's entry replaces the one of the same pkgname, and
/// has no signature.
fn repo_add_on_host(dir: &camino::Utf8Path, db: &[u8], package: &camino::Utf8Path) -> Vec<u8> {
    let work = dir.join("intruder-db");
    std::fs::create_dir_all(&work).unwrap();
    let path = work.join("signed.db.tar.zst");
    std::fs::write(&path, db).unwrap();
    let out = std::process::Command::new("repo-add").args(["-q", path.as_str(), package.as_str()]).output().unwrap();
    assert!(out.status.success(), "repo-add: {}", text(&out));
    std::fs::read(&path).unwrap()
}

/// A signed repository's bed: moto with the bucket, the AUR stand-in with hello, libfoo and
/// foo-app, a directory, the fixture key, and the environment of a run that holds it
/// (`plain`: the same without the key).
struct Signed {
    s3: S3,
    _aur: Aur,
    _t: tempfile::TempDir,
    dir: camino::Utf8PathBuf,
    key: crate::support::SigningKey,
    plain: Vec<(&'static str, String)>,
    env: Vec<(&'static str, String)>,
}

impl Signed {
    fn start() -> Signed {
        let s3 = S3::start();
        s3.create_bucket(BUCKET);
        let aur = Aur::start();
        for p in ["hello", "libfoo", "foo-app"] {
            aur.push_fixture(p);
        }
        let (t, dir) = tempdir();
        let key = crate::support::SigningKey::fixture();
        let mut plain = s3.env();
        plain.push(("AUR_LOCATION", aur.url.clone()));
        plain.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));
        let mut env = plain.clone();
        env.push(key.env());
        Signed { s3, _aur: aur, _t: t, dir, key, plain, env }
    }

    /// Another build of libfoo's locked version (other bytes), as the bucket writer would put
    /// in: `build --no-publish --out` of `config` in a work directory of its own.
    fn other_libfoo(&self, config: &camino::Utf8Path) -> camino::Utf8PathBuf {
        let other = self.dir.join("other-libfoo");
        let mut e = self.env.clone();
        e.push(("REPOCTL_WORK_DIR", self.dir.join("work-other").to_string()));
        let out =
            repoctl(&["build", "--config", config.as_str(), "--no-publish", "--out", other.as_str(), "libfoo"], &e);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        other.join(LIBFOO)
    }
}

const LIBFOO: &str = "libfoo-2.1-1-any.pkg.tar.zst";

#[test]
fn a_bucket_writer_without_the_key_gets_nothing_signed() {
    let Some(_docker) = docker() else { return };
    let bed = Signed::start();
    let (s3, dir, key, env) = (&bed.s3, &bed.dir, &bed.key, &bed.env);
    let config = write_config(dir, s3, Some(&key.fingerprint), &["hello", "libfoo"]);
    let build = |args: &[&str]| {
        let mut all = vec!["build", "--config", config.as_str()];
        all.extend(args);
        repoctl(&all, env)
    };
    let out = build(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let first = [s3.get(BUCKET, "signed.db"), s3.get(BUCKET, "signed.db.sig")];
    // Every database object carries its SHA-256, as every other object does.
    let head = s3.head(BUCKET, "signed.db").unwrap();
    assert_eq!(head.sha256.as_deref(), Some(sha256(&first[0]).as_str()), "signed.db's x-amz-meta-sha256");

    // Someone who can write the bucket replaces hello's entry with one for their own file.
    let theirs = intruder_package(dir);
    let tampered = repo_add_on_host(dir, &first[0], &theirs);
    let listed = repoctl::alpm::read_sync_db(&tampered).unwrap();
    assert!(listed.iter().any(|e| e.filename == "hello-1.0-2-x86_64.pkg.tar.zst" && !e.signed), "{listed:?}");
    s3.put(BUCKET, "hello-1.0-2-x86_64.pkg.tar.zst", std::fs::read(&theirs).unwrap());
    for name in ["signed.db", "signed.db.tar.zst"] {
        s3.put(BUCKET, name, tampered.clone());
    }
    // repoctl builds nothing on it and signs nothing: exit 2, every object as it was.
    let refused = |args: &[&str], says: &str, case: &str| {
        let before = s3.objects(BUCKET);
        let out = build(args);
        assert_eq!(out.status.code(), Some(2), "{case}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{case}: {stderr}");
        assert_eq!(s3.objects(BUCKET), before, "{case}: a refused run wrote to the bucket");
    };
    let says = "signed.db does not verify under key";
    refused(&[], says, "nothing to build");
    write_config(dir, s3, Some(&key.fingerprint), &["hello", "libfoo", "foo-app"]);
    refused(&[], says, "something to build");

    // The database put back as it was: foo-app is built on it, with libfoo fetched from the
    // bucket and checked against its entry.
    for name in ["signed.db", "signed.db.tar.zst"] {
        s3.put(BUCKET, name, first[0].clone());
    }
    s3.delete(BUCKET, "hello-1.0-2-x86_64.pkg.tar.zst");
    let out = build(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let newest = [s3.get(BUCKET, "signed.db"), s3.get(BUCKET, "signed.db.sig")];

    // A rollback: the first database, with its own valid signature, put back. This work
    // directory committed it and replaced it: refused.
    for (name, bytes) in [("signed.db", &first[0]), ("signed.db.tar.zst", &first[0]), ("signed.db.sig", &first[1])] {
        s3.put(BUCKET, name, bytes.clone());
    }
    refused(&[], "was put back", "rollback");
    for (name, bytes) in [("signed.db", &newest[0]), ("signed.db.tar.zst", &newest[0]), ("signed.db.sig", &newest[1])] {
        s3.put(BUCKET, name, bytes.clone());
    }

    // A run that stopped between signed.db and signed.db.sig leaves a stale signature: the
    // next run verifies the database by the signature the key made for it before its commit,
    // and puts that back; it signs nothing.
    s3.put(BUCKET, "signed.db.sig", first[1].clone());
    let out = build(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("replaced by the signature this key made for it before its commit"), "{}", text(&out));
    let by_digest = format!("signed.db.{}.sig", sha256(&newest[0]));
    assert_eq!(s3.get(BUCKET, "signed.db.sig"), s3.get(BUCKET, &by_digest));

    // A dependency swapped in the bucket for another build of the same version (a valid
    // package, other bytes): foo-app's build does not install it. (`build foo-app` alone no
    // longer rebuilds a package published at its locked version; a trial build with --out does.)
    let libfoo = LIBFOO;
    let swapped = std::fs::read(bed.other_libfoo(&config)).unwrap();
    assert_ne!(swapped, s3.get(BUCKET, libfoo), "two builds made the same bytes");
    s3.put(BUCKET, libfoo, swapped);
    let trial = dir.join("trial");
    let out = build(&["--no-publish", "--out", trial.as_str(), "foo-app"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains(&format!("the published dependency {libfoo} is not what")), "{said}");
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// The red-team's F4: a shard builds with `build --no-publish` and holds no secret key, yet
/// its builds install published dependencies from the bucket. It verifies the database with
/// the key's public part (`sign.public_key`), or stops: someone who can write the bucket
/// cannot slip a dependency of theirs into a build whose package the publisher then signs.
#[test]
fn a_shard_without_the_secret_key_builds_only_on_a_database_the_public_key_verifies() {
    let Some(_docker) = docker() else { return };
    let bed = Signed::start();
    let (s3, dir, key) = (&bed.s3, &bed.dir, &bed.key);
    let mut shard_env = bed.plain.clone();
    shard_env.push(("REPOCTL_WORK_DIR", dir.join("work-shard").to_string()));
    let config = write_config(dir, s3, Some(&key.fingerprint), &["hello", "libfoo", "foo-app"]);
    let out = repoctl(&["build", "--config", config.as_str()], &bed.env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (db, libfoo) = (s3.get(BUCKET, "signed.db"), LIBFOO);
    let published_libfoo = s3.get(BUCKET, libfoo);

    // The bucket writer's libfoo (another build of the same version) and a database listing it.
    let other = bed.other_libfoo(&config);
    let tampered = repo_add_on_host(dir, &db, &other);
    s3.put(BUCKET, libfoo, std::fs::read(&other).unwrap());
    for name in ["signed.db", "signed.db.tar.zst"] {
        s3.put(BUCKET, name, tampered.clone());
    }

    // The shard's repo.yaml, beside the same repoctl.lock.
    let shard = dir.join("shard.yaml");
    let yaml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&shard, &yaml).unwrap();
    let trial = dir.join("trial");
    let shard_build = || {
        repoctl(&["build", "--config", shard.as_str(), "--no-publish", "--out", trial.as_str(), "foo-app"], &shard_env)
    };
    let before = s3.objects(BUCKET);
    let out = shard_build();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("neither the secret key (REPOCTL_SIGNING_KEY) nor its public part"), "{said}");
    assert!(said.contains("add `public_key: keys/signed.asc` under `sign:`"), "{said}");

    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::write(dir.join("keys/signed.asc"), fixture("public-key.asc")).unwrap();
    let with_key = yaml.replace(
        &format!("  key: {}\n", key.fingerprint),
        &format!("  key: {}\n  public_key: keys/signed.asc\n", key.fingerprint),
    );
    std::fs::write(&shard, with_key).unwrap();
    let out = shard_build();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("signed.db does not verify under key"), "{}", text(&out));
    let built = |dir: &camino::Utf8Path| {
        std::fs::read_dir(dir).map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("foo-app-")))
    };
    assert!(!built(&trial).unwrap_or(false), "nothing is built on a database the key does not verify");
    assert_eq!(s3.objects(BUCKET), before, "a shard writes nothing to the bucket");

    // The database and libfoo put back: the shard verifies it with the public key and builds.
    s3.put(BUCKET, libfoo, published_libfoo);
    for name in ["signed.db", "signed.db.tar.zst"] {
        s3.put(BUCKET, name, db.clone());
    }
    let out = shard_build();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(built(&trial).unwrap(), "{}", text(&out));
}
