//! Builds as archlinux:base-devel makes them (issue #11): the test image has Arch's pacman.conf
//! (`DownloadUser = alpm`, the sandbox) and makepkg.conf (`OPTIONS=(... debug lto)`), and
//! repoctl runs from a private (0700) directory, as from a Debian home directory.
use crate::support::{
    Aur, Pacman, SigningKey, TESTBED_IMAGE, docker, repoctl_command, repoctl_containers, tempdir, text,
};
use camino::Utf8Path;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

/// `repoctl ARGS` run from `cwd`.
fn repoctl_in(cwd: &Utf8Path, args: &[&str], env: &[(&str, String)]) -> Output {
    crate::support::lock_heads(args, env, Some(cwd));
    repoctl_command(args, env).current_dir(cwd).output().expect("run repoctl")
}

fn names(list: &[(String, String)]) -> Vec<&str> {
    let mut names: Vec<&str> = list.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    names
}

/// A private work tree: the directory repoctl runs from, and everything under it, 0700.
fn private_dir(parent: &Utf8Path) -> camino::Utf8PathBuf {
    let dir = parent.join("home");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

/// An `arch=any` package, an x86_64 C package, a split package and a package with an AUR
/// dependency build on the Arch-like image and install with pacman; no `-debug` pkgname is
/// published by default, and no debug repository appears.
#[test]
fn packages_build_under_archs_own_settings_and_no_debug_package_is_published() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    for p in ["hello", "hello-c", "libfoo", "foo-app", "split-demo"] {
        aur.push_fixture(p);
    }
    let (_t, tmp) = tempdir();
    let home = private_dir(&tmp);
    std::fs::write(
        home.join("repo.yaml"),
        format!(
            "name: archlike\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\n  jobs: 2\n\
packages:\n  - hello-c\n  - foo-app\n  - split-demo\n"
        ),
    )
    .unwrap();
    let env = [("AUR_LOCATION", aur.url.clone())];

    let out = repoctl_in(&home, &["build"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(repoctl_containers(), 0, "containers left behind");

    let repo = home.join("repo");
    let pacman = Pacman::new("archlike", &format!("file://{repo}"));
    let listed = pacman.list("archlike");
    assert_eq!(names(&listed), ["foo-app", "hello-c", "libfoo", "split-demo-a", "split-demo-b"], "{listed:?}");
    assert!(!repo.join("archlike-debug.db").exists(), "a debug repository was made without `debug: true`");
    let files: Vec<String> =
        std::fs::read_dir(&repo).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!files.iter().any(|f| f.contains("-debug-")), "a debug package was published: {files:?}");

    let out = pacman.run(&["-S", "--noconfirm", "hello-c", "foo-app", "split-demo-a"]);
    assert!(out.status.success(), "pacman -S failed:\n{}", text(&out));
    // Built against the image's C library, which may be newer than the host's: checked, not run.
    let binary = std::fs::read(pacman.installed_file("usr/bin/hello-c")).expect("hello-c installed");
    assert_eq!(&binary[..4], b"\x7fELF", "usr/bin/hello-c is not an ELF binary");
}

/// `debug: true`: the C package's debug package goes to `NAME-debug` beside `NAME`, pacman
/// installs it from `[NAME-debug]`, and taking the package out of repo.yaml removes both. A
/// package with nothing to split off (`hello`, no ELF file) builds although makepkg's
/// `--packagelist` names a `hello-debug` it never made.
#[test]
fn debug_packages_go_to_their_own_repository_and_leave_with_their_package() {
    let Some(_docker) = docker() else { return };
    let aur = Aur::start();
    for p in ["hello", "hello-c"] {
        aur.push_fixture(p);
    }
    let (_t, tmp) = tempdir();
    let home = private_dir(&tmp);
    let key = SigningKey::fixture();
    let write = |sign: &str, packages: &str| {
        std::fs::write(
            home.join("repo.yaml"),
            format!(
                // No history: the removed package's files leave as soon as no database lists them.
                "name: dbg\nlocal:\n  path: ./repo\nbuilder:\n  image: {TESTBED_IMAGE}\nsnapshots:\n  keep: 0\n{sign}packages:\n{packages}"
            ),
        )
        .unwrap()
    };
    write("", "  - name: hello\n    debug: true\n  - name: hello-c\n    debug: true\n");
    let env = [("AUR_LOCATION", aur.url.clone()), key.env()];
    let out = repoctl_in(&home, &["build"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let repo = home.join("repo");
    let main = Pacman::new("dbg", &format!("file://{repo}"));
    assert_eq!(names(&main.list("dbg")), ["hello", "hello-c"]);
    let debug = Pacman::new("dbg-debug", &format!("file://{repo}"));
    assert_eq!(names(&debug.list("dbg-debug")), ["hello-c-debug"]);
    let out = debug.run(&["-S", "--noconfirm", "hello-c-debug"]);
    assert!(out.status.success(), "pacman -S hello-c-debug failed:\n{}", text(&out));
    let symbols = std::fs::read_dir(debug.installed_file("usr/lib/debug/usr/bin")).map(|d| d.count()).unwrap_or(0);
    assert!(symbols > 0, "hello-c-debug holds no debug symbols for /usr/bin");

    // Signing turned on: `build` refuses the unsigned repository until `sign --adopt` takes it
    // over; then NAME-debug is signed as NAME is, and a machine that requires signatures trusts
    // it and installs from it.
    let sign = format!("sign:\n  key: {}\n", key.fingerprint);
    write(&sign, "  - name: hello\n    debug: true\n  - name: hello-c\n    debug: true\n");
    let out = repoctl_in(&home, &["build"], &env);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = repoctl_in(&home, &["sign", "--adopt"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("dbg-debug: every package file matches"), "{}", text(&out));
    let out = repoctl_in(&home, &["build"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let strict = Pacman::signed("dbg-debug", &format!("file://{repo}"), &key.public_key, &key.fingerprint);
    assert_eq!(names(&strict.list("dbg-debug")), ["hello-c-debug"]);
    let out = strict.run(&["-S", "--noconfirm", "hello-c-debug"]);
    assert!(out.status.success(), "a strict pacman refused [dbg-debug]:\n{}", text(&out));

    write(&sign, "  - name: hello\n    debug: true\n");
    let out = repoctl_in(&home, &["build"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(names(&main.list("dbg")), ["hello"]);
    assert_eq!(names(&debug.list("dbg-debug")), Vec::<&str>::new());
    let left: Vec<String> = std::fs::read_dir(&repo)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with("hello-c"))
        .collect();
    assert!(left.is_empty(), "files of hello-c left behind: {left:?}");
}
