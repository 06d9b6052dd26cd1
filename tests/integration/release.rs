//! Installable like a real tool (issue 15): `--version` names the commit, completions and the
//! manual page come from the binary, the workflows install the pinned release only after
//! checking its SHA-256 and attestation, the release workflow builds what they download, and
//! the Arch package matches its .SRCINFO.
use crate::github::tool;
use crate::support::{repo_root, repoctl, tempdir, text};
use camino::{Utf8Path, Utf8PathBuf};
use clap::CommandFactory;
use std::process::{Command, Output};

/// The project's GitHub address, `OWNER/REPO`, from Cargo.toml's `repository` (the one place
/// that names it).
fn github_repository() -> String {
    let url = env!("CARGO_PKG_REPOSITORY");
    url.strip_prefix("https://github.com/").expect("repository is a GitHub URL").trim_end_matches('/').to_string()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(repo_root().as_str()).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A checkout (not a tarball): the crate directory is the top of a git work tree.
fn in_git_checkout() -> bool {
    git(&["rev-parse", "--show-toplevel"])
        .is_some_and(|top| std::fs::canonicalize(top).ok() == std::fs::canonicalize(repo_root()).ok())
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = repoctl(&["--version"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let prefix = format!("repoctl {} (", env!("CARGO_PKG_VERSION"));
    assert!(version.starts_with(&prefix) && version.ends_with(')'), "{version}");
    if !in_git_checkout() {
        eprintln!("not a git checkout: {version}");
        return;
    }
    let head = git(&["log", "-1", "--format=%h %cs"]).expect("git log");
    let short = git(&["rev-parse", "--short", "HEAD"]).expect("git rev-parse");
    assert!(head.starts_with(&short));
    assert_eq!(version, format!("{prefix}{head})"));

    // A tarball of the commit (`git archive`, as GitHub's tag tarballs are made) carries the
    // same line for build.rs, through export-subst.
    if git(&["cat-file", "-e", "HEAD:git-archive-commit.txt"]).is_some() {
        let (_t, dir) = tempdir();
        let tar = dir.join("src.tar");
        git(&["archive", "--output", tar.as_str(), "HEAD", "git-archive-commit.txt"]).expect("git archive");
        let out = Command::new("tar").args(["-xOf", tar.as_str()]).output().unwrap();
        let archived = String::from_utf8_lossy(&out.stdout);
        assert_eq!(archived.lines().last(), Some(head.as_str()), "{archived}");
    }
}

#[test]
fn bash_completion_completes_subcommands_and_flags() {
    let (_t, dir) = tempdir();
    let out = repoctl(&["completions", "bash"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let script = dir.join("repoctl.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let syntax = Command::new("bash").args(["-n", script.as_str()]).output().unwrap();
    assert!(syntax.status.success(), "bash -n: {}", text(&syntax));

    // As bash calls the completion function: COMP_WORDS, COMP_CWORD, then (command, word, previous).
    let complete = |words: &str| -> String {
        let program = format!(
            "source {script}; complete -p repoctl; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _repoctl repoctl \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = Command::new("bash").args(["--norc", "-c", &program]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let subcommand = complete("repoctl comp");
    let registered = subcommand.lines().next().unwrap_or_default();
    assert!(
        registered.starts_with("complete ") && registered.contains(" -F _repoctl ") && registered.ends_with(" repoctl"),
        "not registered for repoctl:\n{subcommand}"
    );
    assert_eq!(subcommand.lines().skip(1).collect::<Vec<_>>(), ["completions"], "{subcommand}");
    let flags = complete("repoctl build --no-");
    assert_eq!(flags.lines().skip(1).collect::<Vec<_>>(), ["--no-publish", "--no-progress"], "{flags}");
    let shells = complete("repoctl completions z");
    assert_eq!(shells.lines().skip(1).collect::<Vec<_>>(), ["zsh"], "{shells}");

    // Issue 29, new-user item: package names from repo.yaml (and repoctl.lock) where a PKG
    // goes, for the --config the command line names; none where a path goes.
    let yaml = dir.join("my.yaml");
    std::fs::write(&yaml, "name: r\nlocal:\n  path: ./repo\npackages: [foo-app, foo-bar, hello]\n").unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_repoctl")).parent().unwrap().display().to_string();
    let complete_in_path = |words: &str| -> Vec<String> {
        let program = format!(
            "export PATH={bin}:$PATH; source {script}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _repoctl repoctl \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = Command::new("bash").args(["--norc", "-c", &program]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(String::from).collect()
    };
    assert_eq!(complete_in_path(&format!("repoctl --config {yaml} build foo")), ["foo-app", "foo-bar"]);
    assert_eq!(complete_in_path(&format!("repoctl -c {yaml} update --accept h")), ["hello"]);
    let paths = complete_in_path(&format!("repoctl --config {yaml} build --out foo"));
    assert!(!paths.iter().any(|p| p == "foo-app"), "a path goes after --out: {paths:?}");
    assert!(complete_in_path(&format!("repoctl --config {yaml} schema foo")).is_empty());
    // The variable alone does not turn a command into a silent success (attacker review F4).
    let out = Command::new(env!("CARGO_BIN_EXE_repoctl"))
        .args(["--config", yaml.as_str(), "check"])
        .env("REPOCTL_COMPLETE_PACKAGES", yaml.as_str())
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("foo-bar"), "{}", text(&out));
}

#[test]
fn zsh_and_fish_accept_their_completion_scripts() {
    let (_t, dir) = tempdir();
    for (shell, check) in [("zsh", ["zsh", "-n"]), ("fish", ["fish", "--no-execute"])] {
        let out = repoctl(&["completions", shell], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("completions") && script.contains("no-publish"), "{shell}:\n{script}");
        let Some(program) = tool(check[0]) else { continue };
        let path = dir.join(format!("repoctl.{shell}"));
        std::fs::write(&path, &out.stdout).unwrap();
        let syntax = Command::new(program).args([check[1], path.as_str()]).output().unwrap();
        assert!(syntax.status.success(), "{shell} rejects its script: {}", text(&syntax));
    }
}

/// The subcommands, as clap knows them (the parser the binary uses).
fn subcommands() -> Vec<String> {
    repoctl::cli::Cli::command().get_subcommands().map(|c| c.get_name().to_string()).collect()
}

/// groff's warnings (`-ww`) about a page, when groff is installed.
fn groff_warnings(page: &Utf8Path) -> Option<String> {
    let groff = tool("groff")?;
    let out = Command::new(groff).args(["-man", "-Tutf8", "-ww", "-z", page.as_str()]).output().unwrap();
    assert!(out.status.success(), "groff: {}", text(&out));
    Some(String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_manual_page_names_every_subcommand_and_renders_cleanly() {
    let out = repoctl(&["man"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let page = String::from_utf8_lossy(&out.stdout).into_owned();
    let version = format!("repoctl {} (", env!("CARGO_PKG_VERSION"));
    assert!(page.contains(".TH repoctl 1") && page.contains(&version), "{page}");
    // Issue 29: what a command line cannot say, in man-pages(7) order before VERSION.
    let sections = [
        ".SH REPO.YAML",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH EXAMPLES",
        ".SH \"SEE ALSO\"",
        ".SH VERSION",
    ];
    let at: Vec<usize> =
        sections.iter().map(|s| page.find(s).unwrap_or_else(|| panic!("no {s} in:\n{page}"))).collect();
    assert!(at.is_sorted(), "{sections:?} at {at:?}");
    for key in ["builder.image", "trust.auto", "packages[].nocheck", "REPOCTL_SIGNING_KEY", "repoctl.lock"] {
        assert!(page.contains(&format!("\\fB{}\\fR\n", key.replace('-', "\\-"))), "{key} in:\n{page}");
    }
    let names = subcommands();
    assert!(names.len() >= 12, "{names:?}");
    for name in &names {
        assert!(
            page.contains(&format!("repoctl\\-{}(1)", name.replace('-', "\\-"))),
            "repoctl({name}) is not in:\n{page}"
        );
    }

    // --out-dir: the page above, and one per subcommand, each clean for groff.
    let (_t, dir) = tempdir();
    let out = repoctl(&["man", "--out-dir", dir.as_str()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(dir.join("repoctl.1")).unwrap(), page);
    for name in names.iter().map(|n| format!("repoctl-{n}.1")).chain(["repoctl.1".to_string()]) {
        let path = dir.join(&name);
        let sub = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(sub.contains(".SH SYNOPSIS"), "{name}:\n{sub}");
        if let Some(warnings) = groff_warnings(&path) {
            assert_eq!(warnings, "", "groff warns about {name}");
        }
    }
    // A directory that is not there: an error naming it, nothing else.
    let missing = dir.join("nowhere");
    let out = repoctl(&["man", "--out-dir", missing.as_str()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains(missing.as_str()), "{}", text(&out));
}

/// The step of the install action (templates/actions/install-repoctl/action.yml): its script
/// and its `env`.
fn install_step() -> (String, Vec<(String, String)>) {
    let action: serde_json::Value =
        serde_saphyr::from_str(&read("templates/actions/install-repoctl/action.yml")).expect("action YAML");
    let step = &action["runs"]["steps"][0];
    let env = step["env"]
        .as_object()
        .expect("env")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)));
    (step["run"].as_str().expect("run").to_string(), env.collect())
}

/// A stand-in release (an archive holding a `repoctl` script, and its .sha256), and a `curl`
/// and a `gh` on PATH that serve it and record their arguments.
struct FakeRelease {
    _t: tempfile::TempDir,
    dir: Utf8PathBuf,
    /// REPOCTL_REPOSITORY for the step: a real-looking one, as a user's fork or the project's
    /// home once it has one (the action refuses the committed placeholder).
    repository: String,
}

/// Where the fake release comes from.
const RELEASED_FROM: &str = "example-owner/repoctl";

const SHIMS: &str = r#"#!/bin/sh
# curl: --output FILE ... URL  ->  copy release/$(basename URL) to FILE
out="" url=""
while [ $# -gt 0 ]; do
  case "$1" in --output) out="$2"; shift ;; https://*) url="$1" ;; esac
  shift
done
echo "$url" >> "$LOG/curl"
cp "$RELEASE/${url##*/}" "$out" 2>/dev/null || exit 22
"#;

impl FakeRelease {
    fn new(target: &str) -> FakeRelease {
        let (t, dir) = tempdir();
        for sub in ["release", "bin", "log", "temp", "pack"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let asset = format!("aur-repoctl-{target}.tar.xz");
        let inner = dir.join("pack").join(format!("aur-repoctl-{target}"));
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(inner.join("repoctl"), "#!/bin/sh\necho 'repoctl (stand-in)'\n").unwrap();
        std::fs::write(inner.join("README.md"), "stand-in\n").unwrap();
        let sh = |program: &str| {
            let out = Command::new("sh").args(["-ec", program]).current_dir(dir.as_str()).output().unwrap();
            assert!(out.status.success(), "{}", text(&out));
        };
        sh(&format!("chmod +x pack/*/repoctl; tar -C pack -cJf release/{asset} aur-repoctl-{target}"));
        sh(&format!("cd release && sha256sum {asset} > {asset}.sha256"));
        std::fs::write(dir.join("bin/curl"), SHIMS).unwrap();
        std::fs::write(dir.join("bin/gh"), "#!/bin/sh\necho \"$*\" >> \"$LOG/gh\"\nexit \"${GH_EXIT:-0}\"\n").unwrap();
        sh("chmod +x bin/curl bin/gh");
        FakeRelease { _t: t, dir, repository: RELEASED_FROM.to_string() }
    }

    /// Runs the action's script as a runner would (`bash --noprofile --norc -eo pipefail`).
    fn install(&self, arch: &str, gh_exit: u8) -> Output {
        let (script, env) = install_step();
        let path = self.dir.join("step.sh");
        std::fs::write(&path, script).unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", path.as_str()]);
        cmd.envs(env.into_iter().filter(|(k, _)| k != "GH_TOKEN"));
        let path_var = format!("{}:{}", self.dir.join("bin"), std::env::var("PATH").unwrap_or_default());
        let sets = [
            ("PATH", path_var),
            ("RUNNER_OS", "Linux".to_string()),
            ("RUNNER_ARCH", arch.to_string()),
            ("RUNNER_TEMP", self.dir.join("temp").to_string()),
            ("GITHUB_PATH", self.dir.join("github_path").to_string()),
            ("GITHUB_OUTPUT", self.dir.join("github_output").to_string()),
            ("GH_TOKEN", "token".to_string()),
            ("GH_EXIT", gh_exit.to_string()),
            ("REPOCTL_REPOSITORY", self.repository.clone()),
            ("RELEASE", self.dir.join("release").to_string()),
            ("LOG", self.dir.join("log").to_string()),
        ];
        cmd.envs(sets).output().expect("bash")
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }
}

#[test]
fn the_install_action_checks_the_checksum_and_the_attestation_before_putting_repoctl_on_path() {
    let repo = RELEASED_FROM;
    let version = env!("CARGO_PKG_VERSION");
    let release = FakeRelease::new("x86_64-unknown-linux-musl");
    let out = release.install("X64", 0);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let base =
        format!("https://github.com/{repo}/releases/download/v{version}/aur-repoctl-x86_64-unknown-linux-musl.tar.xz");
    assert_eq!(release.file("log/curl"), format!("{base}\n{base}.sha256\n"));
    let gh = release.file("log/gh");
    let want = format!(
        "attestation verify aur-repoctl-x86_64-unknown-linux-musl.tar.xz --repo {repo} --signer-workflow \
         {repo}/.github/workflows/release.yml --source-ref refs/tags/v{version} --deny-self-hosted-runners\n"
    );
    assert_eq!(gh, want);
    let on_path = release.file("github_path");
    let installed = Utf8PathBuf::from(on_path.trim()).join("repoctl");
    let run = Command::new(installed.as_str()).output().expect("the installed repoctl runs");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "repoctl (stand-in)\n");
    assert_eq!(release.file("github_output"), format!("version={version}\n"));

    // On an ARM runner: the aarch64 build.
    let arm = FakeRelease::new("aarch64-unknown-linux-musl");
    let out = arm.install("ARM64", 0);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(arm.file("log/curl").contains("/aur-repoctl-aarch64-unknown-linux-musl.tar.xz\n"));
}

#[test]
fn the_install_action_refuses_a_release_that_fails_either_check() {
    // The archive changed after its checksum was published: no attestation is asked for.
    let tampered = FakeRelease::new("x86_64-unknown-linux-musl");
    let asset = tampered.dir.join("release/aur-repoctl-x86_64-unknown-linux-musl.tar.xz");
    let mut bytes = std::fs::read(&asset).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&asset, bytes).unwrap();
    let out = tampered.install("X64", 0);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAILED"), "{}", text(&out));
    assert_eq!((tampered.file("log/gh"), tampered.file("github_path")), (String::new(), String::new()));

    // The checksum matches but the attestation does not verify.
    let unattested = FakeRelease::new("x86_64-unknown-linux-musl");
    let out = unattested.install("X64", 1);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(unattested.file("github_path"), "", "repoctl was put on PATH");

    // The committed placeholder (no release home yet): a clear error, nothing downloaded.
    let mut placeholder = FakeRelease::new("x86_64-unknown-linux-musl");
    placeholder.repository = github_repository();
    let out = placeholder.install("X64", 0);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("::error::REPOCTL_REPOSITORY"), "{}", text(&out));
    assert_eq!(placeholder.file("log/curl"), "", "something was downloaded from a placeholder address");

    // Not a Linux runner we release for.
    let other = FakeRelease::new("x86_64-unknown-linux-musl");
    let out = other.install("ARM", 0);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("::error::"), "{}", text(&out));
}

/// Every `uses:` in the workflows and actions: a local action, or an action pinned to a full
/// commit SHA (zizmor's default lets `actions/*` go by tag; this does not).
#[test]
fn every_action_is_pinned_by_commit() {
    let mut files = Vec::new();
    for dir in [".github/workflows", "templates/workflows", ".github/actions", "templates/actions"] {
        for entry in walk(&repo_root().join(dir)) {
            if entry.extension() == Some("yml") {
                files.push(entry);
            }
        }
    }
    assert!(files.iter().any(|f| f.ends_with(".github/workflows/release.yml")), "{files:?}");
    for file in files {
        for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let Some(used) = line.trim_start().trim_start_matches("- ").strip_prefix("uses:") else { continue };
            let used = used.split('#').next().unwrap().trim().trim_matches('"');
            if used.starts_with("./") {
                continue;
            }
            let pin = used.rsplit_once('@').map(|(_, r)| r).unwrap_or("");
            assert!(
                pin.len() == 40 && pin.chars().all(|c| c.is_ascii_hexdigit()),
                "{file}:{}: {used} is not pinned by commit SHA",
                n + 1
            );
        }
    }
}

fn walk(dir: &Utf8Path) -> Vec<Utf8PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = Utf8PathBuf::try_from(entry.path()).expect("UTF-8");
        if path.is_dir() { found.extend(walk(&path)) } else { found.push(path) }
    }
    found
}

/// The address of the project is Cargo.toml's `repository`; everything that names it agrees.
#[test]
fn the_install_action_the_pkgbuild_and_the_readme_name_the_same_repository() {
    let repo = github_repository();
    let (_, env) = install_step();
    assert!(env.contains(&("REPOCTL_REPOSITORY".to_string(), repo.clone())), "{env:?}");
    assert!(read("packaging/arch/PKGBUILD").contains(&format!("url='https://github.com/{repo}'")));
    for page in ["README.md", "docs/src/install.md"] {
        assert!(
            read(page).contains(&format!("https://github.com/{repo}")),
            "{page}'s install steps name another address"
        );
    }
}

/// .github/workflows/release.yml makes what the install action downloads: on a `v*` tag, one
/// static build per architecture the action knows, archived under the names it asks for, with
/// a `.sha256` each, attested in a job that builds nothing, by a build job that can write nothing.
#[test]
fn the_release_workflow_builds_and_attests_what_the_install_action_downloads() {
    let text = read(".github/workflows/release.yml");
    let workflow: serde_json::Value = serde_saphyr::from_str(&text).expect("release.yml");
    assert_eq!(workflow["on"]["push"]["tags"], serde_json::json!(["v*"]));
    assert_eq!(workflow["permissions"], serde_json::json!({"contents": "read"}));

    let build = &workflow["jobs"]["build"];
    let targets: Vec<&str> = build["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    let (script, _) = install_step();
    let known: Vec<&str> = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"]
        .into_iter()
        .filter(|t| script.contains(&format!(") target={t} ;;")))
        .collect();
    assert_eq!(targets, known, "the release builds other targets than the install action maps runners to");
    assert_eq!(build["permissions"], serde_json::json!({"contents": "read"}), "the build job can write");
    assert!(text.contains("name=\"aur-repoctl-$TARGET\"") && text.contains("\"$name.tar.xz\""), "archive names");
    assert!(script.contains("asset=\"aur-repoctl-$target.tar.xz\""), "the action asks for another name");
    assert!(text.contains("sha256sum \"$name.tar.xz\" > \"$name.tar.xz.sha256\""));
    assert!(text.contains("cargo build --locked --release --target \"$TARGET\""));

    let publish = &workflow["jobs"]["publish"];
    assert_eq!(
        publish["permissions"],
        serde_json::json!({"contents": "write", "id-token": "write", "attestations": "write"})
    );
    let steps = publish["steps"].as_array().unwrap();
    let attest = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/attest-build-provenance@")))
        .expect("an attest-build-provenance step");
    assert_eq!(attest["with"]["subject-path"], "dist/*.tar.xz");
    assert!(steps.iter().all(|s| !s["run"].as_str().unwrap_or_default().contains("cargo")), "publish runs cargo");
}

/// packaging/arch: the committed .SRCINFO is what makepkg makes of the PKGBUILD, and it
/// describes this crate: pkgname aur-repoctl at Cargo.toml's version, in conflict with (and
/// not providing) cassava's repoctl, from a checksummed tag tarball.
#[test]
fn the_pkgbuild_matches_its_srcinfo_and_this_crate() {
    let committed = read("packaging/arch/.SRCINFO");
    if let Some(makepkg) = tool("makepkg") {
        // makepkg refuses to run as root; as root, it runs as nobody in a directory it may write.
        let (_t, dir) = tempdir();
        std::fs::copy(repo_root().join("packaging/arch/PKGBUILD"), dir.join("PKGBUILD")).unwrap();
        let as_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let out = if as_root {
            Command::new("chmod").args(["-R", "a+rwX", dir.as_str()]).status().unwrap();
            Command::new("su")
                .args(["nobody", "-s", "/bin/sh", "-c", "makepkg --printsrcinfo"])
                .current_dir(&dir)
                .output()
        } else {
            Command::new(makepkg).arg("--printsrcinfo").current_dir(&dir).output()
        }
        .expect("makepkg");
        assert!(out.status.success(), "makepkg --printsrcinfo: {}", text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            committed,
            "packaging/arch/.SRCINFO is stale: run `makepkg --printsrcinfo > .SRCINFO` in packaging/arch"
        );
    }
    for arch in ["x86_64", "aarch64"] {
        let parsed = repoctl::aur::SrcInfo::parse(&committed, arch).expect("a valid .SRCINFO");
        assert_eq!(parsed.pkgbase, "aur-repoctl");
        assert_eq!(parsed.pkgnames, ["aur-repoctl"]);
        assert!(parsed.version.starts_with(&format!("{}-", env!("CARGO_PKG_VERSION"))), "{}", parsed.version);
        assert_eq!(parsed.makedepends, ["cargo"]);
        assert!(parsed.packages[0].provides.is_empty(), "it must not provide cassava's repoctl");
    }
    let info = alpm_srcinfo::SourceInfoV1::from_string(&committed).expect(".SRCINFO");
    let package = info
        .packages_for_architecture("x86_64".parse::<alpm_types::Architecture>().unwrap())
        .next()
        .expect("a package");
    let conflicts: Vec<String> = package.conflicts.iter().map(|c| c.to_string()).collect();
    assert_eq!(conflicts, ["repoctl"]);
    let srcinfo_text = committed.replace('\t', "");
    let repo = github_repository();
    let tarball = format!(
        "source = aur-repoctl-{v}.tar.gz::https://github.com/{repo}/archive/refs/tags/v{v}.tar.gz",
        v = env!("CARGO_PKG_VERSION")
    );
    assert!(srcinfo_text.lines().any(|l| l == tarball), "{committed}");
    let sums: Vec<&str> = srcinfo_text.lines().filter_map(|l| l.strip_prefix("sha256sums = ")).collect();
    assert!(sums.len() == 1 && sums[0].len() == 64 && sums[0] != "SKIP", "a real SHA-256 for the tarball: {sums:?}");

    // The PKGBUILD builds locked and offline, and installs what the binary makes.
    let pkgbuild = read("packaging/arch/PKGBUILD");
    for needed in [
        "cargo fetch --locked",
        "cargo build --frozen --release",
        "man --out-dir \"$pkgdir/usr/share/man/man1\"",
        "completions bash",
        "completions zsh",
        "completions fish",
        "LICENSE-MIT LICENSE-APACHE",
    ] {
        assert!(pkgbuild.contains(needed), "the PKGBUILD does not run `{needed}`");
    }
    for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(repo_root().join(license).is_file(), "{license} is missing: the PKGBUILD installs it");
    }
}
