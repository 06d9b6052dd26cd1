//! The run's image (issue #16): the synced builder image is reused while the mirrors' sync
//! databases are those it was upgraded against, and upgraded (from itself) when they are not.
//!
//! The test image's mirror is a `file://` repository inside the image, so it never changes
//! under a run: "the mirrors changed" is made by tampering with the synced image's label.
use crate::support::{TESTBED_IMAGE, docker, pins, repoctl, superseded_images, tempdir, text};
use camino::Utf8Path;
use std::process::{Command, Output};

/// One `repoctl build --no-publish --out OUT` of the hello fixture.
struct Bed {
    _tmp: tempfile::TempDir,
    dir: camino::Utf8PathBuf,
    env: Vec<(&'static str, String)>,
    _aur: crate::support::Aur,
}

impl Bed {
    fn new() -> Bed {
        let aur = crate::support::Aur::start();
        aur.push_fixture("hello");
        let (tmp, dir) = tempdir();
        let config = format!("name: synced\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  - hello\n");
        std::fs::write(dir.join("repo.yaml"), config).unwrap();
        let env = vec![("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];
        Bed { _tmp: tmp, dir, env, _aur: aur }
    }

    /// Builds into `out-N`; returns the output, the run's ID and the containers it created, by
    /// purpose (from the daemon's events).
    fn build(&self, n: u32) -> (Output, String, Vec<String>) {
        let before = runs(&self.dir.join("work"));
        let since = unix_now();
        let out_dir = self.dir.join(format!("out-{n}"));
        let config = self.dir.join("repo.yaml");
        let out =
            repoctl(&["build", "--no-publish", "--out", out_dir.as_str(), "--config", config.as_str()], &self.env);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let run = runs(&self.dir.join("work")).into_iter().find(|r| !before.contains(r)).expect("a new run directory");
        let created = containers_created(&run, since - 1, unix_now());
        (out, run, created)
    }

    /// The image ID the provenance of `out-N`'s package names (`builder.digest`).
    fn provenance_image(&self, n: u32) -> String {
        let out_dir = self.dir.join(format!("out-{n}"));
        let sidecar = std::fs::read_dir(&out_dir).unwrap().flatten().map(|e| e.path());
        let sidecar = sidecar.into_iter().find(|p| p.to_string_lossy().ends_with(".provenance.json"));
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sidecar.expect("a provenance sidecar in --out")).unwrap()).unwrap();
        record["builder"]["digest"].as_str().expect("builder.digest").to_string()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// The run IDs under WORK/runs.
fn runs(work: &Utf8Path) -> Vec<String> {
    let entries = std::fs::read_dir(work.join("runs")).into_iter().flatten().flatten();
    entries.map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

/// The purposes of the containers the run `run` created between `since` and `until` (Unix
/// seconds), as the daemon's event log says.
fn containers_created(run: &str, since: u64, until: u64) -> Vec<String> {
    let label = format!("label={}={run}", repoctl::docker::LABEL_RUN);
    let out = Command::new("docker")
        .args(["events", "--since", &since.to_string(), "--until", &until.to_string()])
        .args(["--filter", "type=container", "--filter", "event=create", "--filter", &label])
        .args(["--format", "{{json .Actor.Attributes}}"])
        .output()
        .expect("docker events");
    let lines = String::from_utf8_lossy(&out.stdout).into_owned();
    lines
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|a| a[repoctl::docker::LABEL_PURPOSE].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The image the synced tag `tag` names now: (ID, its sync-dbs label).
fn synced_image(tag: &str) -> (String, String) {
    let format = format!("{{{{.Id}}}} {{{{index .Config.Labels \"{}\"}}}}", repoctl::docker::LABEL_SYNC_DBS);
    let out = Command::new("docker").args(["image", "inspect", "--format", &format, tag]).output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (id, label) = out.split_once(' ').expect("id and label");
    (id.to_string(), label.to_string())
}

/// The synced tag whose image is `id`.
fn synced_tag_of(id: &str) -> String {
    let out = Command::new("docker").args(["image", "inspect", "--format", "{{json .RepoTags}}", id]).output().unwrap();
    let tags: Vec<String> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    tags.into_iter().find(|t| t.starts_with("repoctl-builder:synced-")).unwrap_or_default()
}

#[test]
fn a_second_build_reuses_the_synced_image_without_a_container() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new();
    let (_, _, _) = bed.build(1);
    let first = bed.provenance_image(1);
    let tag = synced_tag_of(&first);
    assert!(!tag.is_empty(), "the first run's image is the synced image: {first}");

    let (out, run, created) = bed.build(2);
    assert!(text(&out).contains("builder image is up to date with the mirrors"), "{}", text(&out));
    assert_eq!(bed.provenance_image(2), first, "both runs' builds started from the same image");
    assert!(!created.iter().any(|p| p == "refresh"), "run {run} upgraded the image again: {created:?}");
    assert!(created.iter().any(|p| p.starts_with("build-")), "run {run} built nothing? {created:?}");
    let out_dir = bed.dir.join("out-2");
    let built = std::fs::read_dir(&out_dir).unwrap().flatten();
    let built: Vec<String> = built.map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(built.iter().any(|f| f.starts_with("hello-1.0-1-") && f.ends_with(".pkg.tar.zst")), "{built:?}");
    assert!(pins().is_empty(), "a run left its pin behind");
    assert!(superseded_images().is_empty(), "a run left an image behind");
}

#[test]
fn a_synced_image_of_other_databases_is_upgraded_from_itself() {
    let Some(_docker) = docker() else { return };
    let bed = Bed::new();
    bed.build(1);
    let current = bed.provenance_image(1);
    let tag = synced_tag_of(&current);
    let (_, real) = synced_image(&tag);
    // "The mirrors changed": the synced image, labelled as if upgraded against other databases.
    let other = format!("core={}", "0".repeat(64));
    let made = Command::new("docker").args(["create", &tag, "true"]).output().unwrap();
    let container = String::from_utf8_lossy(&made.stdout).trim().to_string();
    let label = format!("LABEL {}={other}", repoctl::docker::LABEL_SYNC_DBS);
    let commit = Command::new("docker").args(["commit", "--change", &label, &container, &tag]).output().unwrap();
    let _ = Command::new("docker").args(["rm", "-f", &container]).output();
    assert!(commit.status.success(), "{}", String::from_utf8_lossy(&commit.stderr));
    let (tampered, label) = synced_image(&tag);
    assert_eq!(label, other);

    let (out, run, created) = bed.build(2);
    assert!(text(&out).contains("the mirrors changed"), "{}", text(&out));
    assert_eq!(created.iter().filter(|p| *p == "refresh").count(), 1, "run {run}: {created:?}");
    let (new, label) = synced_image(&tag);
    assert!(new != tampered && new != current, "a new synced image was made");
    assert_eq!(label, real, "the new image is labelled with the databases it was upgraded against");
    assert_eq!(bed.provenance_image(2), new, "the run built from the new synced image");
    let parent = Command::new("docker").args(["image", "inspect", "--format", "{{.Parent}}", &new]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&parent.stdout).trim(), tampered, "upgraded from the synced image itself");

    // And the next run reuses it.
    let (_, run, created) = bed.build(3);
    assert!(!created.iter().any(|p| p == "refresh"), "run {run}: {created:?}");
    assert_eq!(bed.provenance_image(3), new);
    assert!(pins().is_empty() && superseded_images().is_empty());
}
