//! Uploads that hold up at any size and after an interruption (issue #4): a package above the
//! multipart threshold goes up in parts and installs; a publish that follows an interrupted one
//! does not send the package files that already made it.
use crate::support::{Aur, Pacman, S3, TESTBED_IMAGE, docker, repoctl, tempdir, text};
use camino::{Utf8Path, Utf8PathBuf};

const REPO: &str = "up";

fn config(dir: &Utf8Path, s3: &S3, bucket: &str, pkg: &str) -> Utf8PathBuf {
    let path = dir.join(format!("{bucket}.yaml"));
    std::fs::write(
        &path,
        format!(
            "name: {REPO}\ns3:\n  bucket: {bucket}\n  endpoint: {}\n  acl: public-read\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - {pkg}\n",
            s3.endpoint
        ),
    )
    .unwrap();
    path
}

/// Builds the fixture `pkg` with `build --no-publish --out`; returns the package file.
fn build_fixture(dir: &Utf8Path, s3: &S3, pkg: &str) -> Utf8PathBuf {
    let aur = Aur::start();
    aur.push_fixture(pkg);
    s3.create_bucket("prep");
    let config = config(dir, s3, "prep", pkg);
    let out_dir = dir.join("out");
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(("REPOCTL_WORK_DIR", dir.join("build-work").to_string()));
    let out = repoctl(&["build", "--config", config.as_str(), "--no-publish", "--out", out_dir.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut files: Vec<Utf8PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| Utf8PathBuf::try_from(e.unwrap().path()).unwrap())
        .filter(|p| repoctl::alpm::is_package_file(p.file_name().unwrap_or_default()))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.pop().unwrap()
}

fn publish(dir: &Utf8Path, s3: &S3, bucket: &str, pkg: &str, packages: &Utf8Path, extra: &[(&str, String)]) {
    let config = config(dir, s3, bucket, pkg);
    let mut env = s3.env();
    env.push(("REPOCTL_WORK_DIR", dir.join(format!("work-{bucket}")).to_string()));
    env.extend(extra.iter().cloned());
    let out = repoctl(&["publish", "--config", config.as_str(), packages.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

fn install(s3: &S3, bucket: &str, pkg: &str) -> Pacman {
    let pacman = Pacman::new(REPO, &format!("{}/{bucket}", s3.endpoint));
    assert_eq!(pacman.list(REPO).into_iter().map(|(n, _)| n).collect::<Vec<_>>(), [pkg]);
    let out = pacman.run(&["-S", "--noconfirm", pkg]);
    assert!(out.status.success(), "pacman -S {pkg} failed:\n{}", text(&out));
    pacman
}

#[test]
fn a_package_above_the_multipart_threshold_goes_up_in_parts_and_installs() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    let (_t, dir) = tempdir();
    let package = build_fixture(&dir, &s3, "bigfile");
    let size = std::fs::metadata(&package).unwrap().len();
    assert!(size > 10 * 1024 * 1024, "the fixture should make a package over 10 MiB, not {size} bytes");

    s3.create_bucket("big");
    let threshold = ("REPOCTL_MULTIPART_THRESHOLD", (5 * 1024 * 1024).to_string());
    publish(&dir, &s3, "big", "bigfile", package.parent().unwrap(), &[threshold]);

    let key = package.file_name().unwrap();
    let object = s3.head("big", key).expect("the package file is in the bucket");
    // A multipart object's ETag is "<hash>-<number of parts>": 5 MiB parts, so three.
    assert!(object.etag.trim_matches('"').ends_with("-3"), "not a 3-part upload: {object:?}");
    assert_eq!(object.content_type, "application/octet-stream");
    assert_eq!(object.cache_control, "public, max-age=31536000, immutable");
    assert!(s3.get("big", key) == std::fs::read(&package).unwrap(), "the object differs from the package file");
    assert_eq!(s3.unfinished_uploads("big"), 0, "a multipart upload was left open");

    let pacman = install(&s3, "big", "bigfile");
    let payload = std::fs::metadata(pacman.installed_file("/usr/share/bigfile/payload")).unwrap();
    assert_eq!(payload.len(), 12 * 1024 * 1024);
}

#[test]
fn publishing_again_after_an_interrupted_publish_does_not_send_the_package_files_again() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    let (_t, dir) = tempdir();
    let package = build_fixture(&dir, &s3, "hello");
    let key = package.file_name().unwrap();
    s3.create_bucket("rerun");
    // Something else already sits under the package's name, which no database lists (another
    // run's build of the same version, or a stray): it is neither replaced nor trusted. The
    // package is not published, the publish says why and exits 1.
    s3.put("rerun", key, b"not the package".to_vec());
    let config = config(&dir, &s3, "rerun", "hello");
    let mut env = s3.env();
    env.push(("REPOCTL_WORK_DIR", dir.join("work-rerun").to_string()));
    let out = repoctl(&["publish", "--config", config.as_str(), package.parent().unwrap().as_str()], &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!("hello was not published: {key} is already on")) && said.contains("delete"),
        "{said}"
    );
    assert_eq!(s3.get("rerun", key), b"not the package", "the object under the name was replaced");
    assert!(s3.head("rerun", &format!("{REPO}.db")).is_none(), "a database was committed");
    // Deleted as the message says: published.
    s3.delete("rerun", key);
    publish(&dir, &s3, "rerun", "hello", package.parent().unwrap(), &[]);
    let first = s3.head("rerun", key).expect("package file uploaded");
    assert_eq!(first.size as u64, std::fs::metadata(&package).unwrap().len());
    let first_db = s3.head("rerun", &format!("{REPO}.db")).expect("database published");
    // The database carries its SHA-256 like every other object.
    let db_sha256 = {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(s3.get("rerun", &format!("{REPO}.db"))))
    };
    assert_eq!(first_db.sha256.as_deref(), Some(db_sha256.as_str()), "{REPO}.db's x-amz-meta-sha256");

    // An interrupted publish: the package file went up, the database never did.
    for name in ["db", "db.tar.zst", "files", "files.tar.zst"] {
        s3.delete("rerun", &format!("{REPO}.{name}"));
    }
    // Last-Modified has a resolution of one second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    publish(&dir, &s3, "rerun", "hello", package.parent().unwrap(), &[]);

    let again = s3.head("rerun", key).expect("package file still there");
    assert_eq!(again, first, "the package file was uploaded again");
    let db = s3.head("rerun", &format!("{REPO}.db")).expect("database published again");
    assert_ne!(db.last_modified, first_db.last_modified, "the database was not written again");
    let pacman = install(&s3, "rerun", "hello");
    assert!(pacman.installed_file("/usr/share/hello/greeting.txt").exists());
}

/// A store that ignores conditional writes would let two publishers overwrite each other's
/// database and then delete files the surviving one lists. The probe finds it (here: moto
/// behind a proxy that drops `If-Match` and `If-None-Match`), and the target is refused before
/// anything is written, its probe object included; the same bucket reached directly passes,
/// once per work directory.
#[test]
fn a_store_that_ignores_conditional_writes_is_refused_before_anything_is_written() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    let loose = crate::support::S3Faults::ignoring_conditions(&s3.endpoint);
    let (_t, dir) = tempdir();
    // A real package with its provenance, as a shard leaves it: publish DIR checks its files
    // against the lock before it reaches the store.
    let package = build_fixture(&dir, &s3, "hello");
    let packages = package.parent().unwrap().to_owned();
    s3.create_bucket("loose");
    let config = dir.join("loose.yaml");
    std::fs::write(
        &config,
        format!(
            "name: {REPO}\ns3:\n  bucket: loose\n  endpoint: {}\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n",
            loose.url
        ),
    )
    .unwrap();
    let mut env = s3.env();
    let work = dir.join("work");
    env.push(("REPOCTL_WORK_DIR", work.to_string()));
    let out = repoctl(&["publish", "--config", config.as_str(), packages.as_str()], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not refuse conditional writes")
            && stderr.contains("If-None-Match: *")
            && stderr.contains("If-Match"),
        "{stderr}"
    );
    assert_eq!(s3.keys("loose"), Vec::<String>::new(), "something was written");
    assert!(!work.join("conditional-writes.json").exists(), "a refused store was remembered");

    // moto itself refuses them: the probe passes, is remembered, and leaves nothing behind.
    let direct = dir.join("direct.yaml");
    std::fs::write(&direct, std::fs::read_to_string(&config).unwrap().replace(&loose.url, &s3.endpoint)).unwrap();
    let mut env = s3.env();
    env.push(("REPOCTL_WORK_DIR", work.to_string()));
    let out = repoctl(&["publish", "--config", direct.as_str(), packages.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(s3.keys("loose").contains(&format!("{REPO}.db")), "{:?}", s3.keys("loose"));
    let remembered = std::fs::read_to_string(work.join("conditional-writes.json")).expect("remembered");
    assert!(remembered.contains("s3://loose"), "{remembered}");
    assert!(!s3.keys("loose").iter().any(|k| k.contains("repoctl-probe")), "{:?}", s3.keys("loose"));
}
