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
    // Something else already sits under the package's name: it is replaced, not trusted.
    s3.put("rerun", key, b"not the package".to_vec());
    publish(&dir, &s3, "rerun", "hello", package.parent().unwrap(), &[]);
    let first = s3.head("rerun", key).expect("package file uploaded");
    assert_eq!(first.size as u64, std::fs::metadata(&package).unwrap().len());
    let first_db = s3.head("rerun", &format!("{REPO}.db")).expect("database published");

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
