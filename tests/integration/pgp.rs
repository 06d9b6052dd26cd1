//! PGP-signed sources (issue #5): makepkg checks `source=(... .sig)` against validpgpkeys with
//! the build user's keyring, which repoctl fills from the AUR repository's keys/pgp/ and from
//! repo.yaml's `pgp_keys`. Signature checks stay on.
use crate::support::{Aur, Pacman, TESTBED_IMAGE, docker, repo_root, repoctl, repoctl_containers, tempdir, text};

/// The fixture's throwaway signing key (tests/fixtures/pgp/signer.asc).
const SIGNER: &str = "9AFB7BB20A2C795ABA9CDA8777867A0A09675111";
/// Another throwaway key (tests/fixtures/pgp/other.asc), which made no signature.
const OTHER: &str = "3917B631F3C03CEE63BF8FD4C9BEC4CB26FD46D9";

/// The newest run's build log of signed-source.
fn build_log(work: &camino::Utf8Path) -> String {
    let mut logs: Vec<(std::time::SystemTime, std::path::PathBuf)> = std::fs::read_dir(work.join("runs"))
        .unwrap()
        .flatten()
        .map(|r| r.path().join("logs/signed-source.log"))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    logs.sort();
    let (_, newest) = logs.pop().expect("a build log of signed-source");
    std::fs::read_to_string(newest).unwrap()
}

#[test]
fn a_signed_source_builds_with_the_key_its_aur_repository_ships() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    aur.push_fixture("signed-source");
    let (_t, dir) = tempdir();
    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!("name: signed\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - signed-source\n"),
    )
    .unwrap();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];

    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(repoctl_containers(), 0, "containers left behind");

    // makepkg checked the signature (it was not skipped) with the key from keys/pgp/.
    let log = build_log(&dir.join("work"));
    assert!(log.contains(&format!("keys/pgp/{SIGNER}.asc: public key {SIGNER}")), "{log}");
    assert!(log.contains("Verifying source file signatures"), "no signature check in the log:\n{log}");
    assert!(log.contains("greeting.txt ... Passed"), "{log}");
    assert!(!log.contains("skippgpcheck") && !log.contains("Skipping"), "{log}");

    let pacman = Pacman::new("signed", &format!("file://{}", dir.join("repo")));
    assert_eq!(pacman.list("signed"), [("signed-source".to_string(), "1.0-1".to_string())]);
    let install = pacman.run(&["-S", "--noconfirm", "signed-source"]);
    assert!(install.status.success(), "{}", text(&install));
    let greeting = std::fs::read_to_string(pacman.installed_file("usr/share/signed-source/greeting.txt")).unwrap();
    assert_eq!(greeting.trim(), "signed by the fixture key");
}

/// keys/pgp/<SIGNER>.asc holds the wrong key: it is not imported, the build fails naming the key
/// it lacked, nothing is published; repo.yaml's `pgp_keys` then supplies the right key file.
#[test]
fn a_wrong_key_fails_the_build_naming_the_key_and_repo_yaml_can_supply_it() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    let (_t, dir) = tempdir();
    let fixture = dir.join("fixture");
    crate::support::copy_tree(
        repo_root().join("tests/fixtures/aur/signed-source").as_std_path(),
        fixture.as_std_path(),
    );
    let pgp = repo_root().join("tests/fixtures/pgp");
    std::fs::copy(pgp.join("other.asc"), fixture.join(format!("keys/pgp/{SIGNER}.asc"))).unwrap();
    aur.push_dir("signed-source", &fixture);

    let config = dir.join("repo.yaml");
    let base = format!("name: signed\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n");
    std::fs::write(&config, format!("{base}  - signed-source\n")).unwrap();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];

    let out = repoctl(&["build", "--config", config.as_str()], &env);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let row = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains("signed-source") && l.contains("FAILED"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no FAILED line for signed-source:\n{all}"));
    assert!(row.contains("could not verify the sources' PGP signatures"), "{all}");
    assert!(row.contains(&format!("no public key for {SIGNER}")), "the key is not named:\n{all}");
    assert!(row.contains("pgp_keys"), "no way out is named:\n{all}");
    let log = build_log(&dir.join("work"));
    assert!(log.contains(&format!("holds key {OTHER}, not {SIGNER}: not imported")), "{log}");
    assert!(!dir.join("repo/signed.db").exists(), "a package whose signature was not verified was published");
    assert_eq!(repoctl_containers(), 0, "containers left behind");

    // A short key ID in pgp_keys is refused where it stands, before anything runs.
    std::fs::write(&config, format!("{base}  - name: signed-source\n    pgp_keys: [09675111]\n")).unwrap();
    let out = repoctl(&["check", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{config}:6:16: `09675111` is not a full key fingerprint")), "{}", text(&out));
    assert!(stderr.contains("hint: write the key's full 40-character fingerprint"), "{}", text(&out));

    // The right key, as a file beside repo.yaml.
    std::fs::copy(pgp.join("signer.asc"), dir.join("upstream-signer.asc")).unwrap();
    std::fs::write(&config, format!("{base}  - name: signed-source\n    pgp_keys: [upstream-signer.asc]\n")).unwrap();
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = build_log(&dir.join("work"));
    assert!(log.contains("greeting.txt ... Passed"), "{log}");
    let pacman = Pacman::new("signed", &format!("file://{}", dir.join("repo")));
    assert_eq!(pacman.list("signed"), [("signed-source".to_string(), "1.0-1".to_string())]);
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}

/// A fingerprint in `pgp_keys` is received with gpg --recv-keys inside the container, from
/// `builder.keyserver` (here a static HKP server on the Docker bridge), when the AUR
/// repository ships no key at all.
#[test]
fn a_fingerprint_in_pgp_keys_is_received_from_the_keyserver() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    let (_t, dir) = tempdir();
    let fixture = dir.join("fixture");
    crate::support::copy_tree(
        repo_root().join("tests/fixtures/aur/signed-source").as_std_path(),
        fixture.as_std_path(),
    );
    std::fs::remove_dir_all(fixture.join("keys")).unwrap();
    aur.push_dir("signed-source", &fixture);

    // HKP is GET /pks/lookup?op=get&search=0x<FPR>; a static server ignores the query.
    let served = dir.join("keyserver");
    std::fs::create_dir_all(served.join("pks")).unwrap();
    std::fs::copy(repo_root().join("tests/fixtures/pgp/signer.asc"), served.join("pks/lookup")).unwrap();
    let gateway = crate::support::bridge_gateway();
    let port = std::net::TcpListener::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port();
    let mut http = std::process::Command::new("python3")
        .args(["-m", "http.server", "--bind", "0.0.0.0", &port.to_string(), "--directory", served.as_str()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && started.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!(
            "name: signed\nbuilder:\n  image: {TESTBED_IMAGE}\n  keyserver: hkp://{gateway}:{port}\n  allow_host: [{gateway}]\npackages:\n  - name: signed-source\n    pgp_keys: ['{SIGNER}']\n"
        ),
    )
    .unwrap();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    let _ = http.kill();
    let _ = http.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = build_log(&dir.join("work"));
    assert!(log.contains(&format!("repo.yaml: key {SIGNER}, received from a keyserver")), "{log}");
    assert!(log.contains("greeting.txt ... Passed"), "{log}");
    let pacman = Pacman::new("signed", &format!("file://{}", dir.join("repo")));
    assert_eq!(pacman.list("signed"), [("signed-source".to_string(), "1.0-1".to_string())]);
    assert_eq!(repoctl_containers(), 0, "containers left behind");
}
