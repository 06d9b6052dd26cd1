//! Package files whose names hold `+` (issue #11): AWS S3 reads `+` in a request path as a
//! space and pacman does not escape file names, so pacman installs them from a real bucket only
//! if their objects also exist under the names AWS looks up. The proxy in front of moto
//! (tests/support/aws_paths_proxy.py) reads paths as AWS does.
use crate::support::{Aur, AwsPathsProxy, Pacman, S3, SigningKey, TESTBED_IMAGE, docker, repoctl, tempdir, text};

const BUCKET: &str = "plus-bucket";
const PREFIX: &str = "repo/x86_64";

fn write_config(dir: &camino::Utf8Path, s3: &S3, key: &SigningKey, packages: &[&str]) -> camino::Utf8PathBuf {
    let path = dir.join("repo.yaml");
    let list: String = packages.iter().map(|p| format!("  - {p}\n")).collect();
    let yaml = format!(
        "name: plusrepo\ns3:\n  bucket: {BUCKET}\n  prefix: {PREFIX}\n  endpoint: {}\n  acl: public-read\n\
builder:\n  image: {TESTBED_IMAGE}\nsign:\n  key: {}\nsnapshots:\n  keep: 0\npackages:\n{list}",
        s3.endpoint, key.fingerprint
    );
    std::fs::write(&path, yaml).expect("repo.yaml");
    path
}

/// The bucket's keys that belong to the two packages with `+`, under either name.
/// The keys of the two packages' files and companions (their build logs, `logs/BASE/RUN.log`,
/// are not what pacman reads; they are linked percent-encoded from the page).
fn plus_keys(s3: &S3) -> Vec<String> {
    let logs = format!("{PREFIX}/logs/");
    (s3.keys(BUCKET).into_iter())
        .filter(|k| {
            (k.contains("plusver") || k.contains("libplus")) && !k.starts_with(&logs) && !k.starts_with("logs/")
        })
        .collect()
}

#[test]
fn pacman_installs_packages_with_plus_through_aws_path_reading_and_removal_leaves_nothing() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    s3.create_bucket(BUCKET);
    let proxy = AwsPathsProxy::start(&s3.endpoint);
    let aur = Aur::start();
    for p in ["hello", "plusver", "libplus++"] {
        aur.push_fixture(p);
    }
    let (_t, dir) = tempdir();
    let key = SigningKey::fixture();
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));
    env.push(key.env());

    // Locked, then published, signed, to moto directly (repoctl writes with escaped keys, as
    // the SDK does).
    let config = write_config(&dir, &s3, &key, &["hello", "plusver", "libplus++"]);
    let out = repoctl(&["update", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // pacman reads through the proxy, as from AWS: its unescaped `+` means a space there.
    let server = format!("{}/{BUCKET}/{PREFIX}", proxy.url);
    let pacman = Pacman::signed("plusrepo", &server, &key.public_key, &key.fingerprint);
    let mut listed = pacman.list("plusrepo");
    listed.sort();
    let expected = [("hello", "1.0-1"), ("libplus++", "2.0-1"), ("plusver", "1.0+r3-1")];
    assert_eq!(listed, expected.map(|(n, v)| (n.to_string(), v.to_string())));
    let install = pacman.run(&["-S", "--noconfirm", "plusver", "libplus++"]);
    assert!(install.status.success(), "pacman -S through the AWS-like proxy failed:\n{}", text(&install));
    for (file, content) in
        [("/usr/share/plusver/plusver.txt", "plusver 1.0+r3"), ("/usr/share/libplus++/libplus++.txt", "libplus++ 2.0")]
    {
        let installed = std::fs::read_to_string(pacman.installed_file(file)).expect("installed file");
        assert_eq!(installed.trim(), content, "{file}");
    }

    // Each package file, signature and provenance record is there under its name and the name
    // AWS looks up.
    let mut expected_keys = Vec::new();
    for file in ["plusver-1.0+r3-1-any.pkg.tar.zst", "libplus++-2.0-1-any.pkg.tar.zst"] {
        for name in [file.to_string(), file.replace('+', " ")] {
            expected_keys
                .extend(["", ".sig", ".provenance.json"].map(|companion| format!("{PREFIX}/{name}{companion}")));
        }
    }
    expected_keys.sort();
    assert_eq!(plus_keys(&s3), expected_keys);

    // Published by a repoctl that wrote no second name: the next publish writes what is
    // missing (here while it takes libplus++ out), and a machine that never downloaded
    // plusver installs it through the proxy.
    let plusver = "plusver-1.0+r3-1-any.pkg.tar.zst";
    for name in [plusver.to_string(), format!("{plusver}.sig"), format!("{plusver}.provenance.json")] {
        s3.delete(BUCKET, &format!("{PREFIX}/{}", name.replace('+', " ")));
    }
    write_config(&dir, &s3, &key, &["hello", "plusver"]);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut plusver_keys: Vec<String> =
        expected_keys.iter().filter(|k| k.contains("plusver")).cloned().collect::<Vec<_>>();
    plusver_keys.sort();
    assert_eq!(plus_keys(&s3), plusver_keys);
    let fresh = Pacman::signed("plusrepo", &server, &key.public_key, &key.fingerprint);
    let install = fresh.run(&["-Sy", "--noconfirm", "plusver"]);
    assert!(install.status.success(), "pacman -S plusver after the repair failed:\n{}", text(&install));

    // Removed from repo.yaml: both names of both packages, their signatures and provenance,
    // leave.
    write_config(&dir, &s3, &key, &["hello"]);
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(plus_keys(&s3), Vec::<String>::new(), "left in the bucket: {:?}", s3.keys(BUCKET));
    assert_eq!(pacman.list("plusrepo"), [("hello".to_string(), "1.0-1".to_string())]);
}
