//! The linkage `publish DIR` records (issue 26) comes from the package files it checked, never
//! from a shard's results file. The shard runner ran AUR code and wrote that file; had its
//! linkage been recorded, a compromised shard could force a soname rebuild of any package or
//! suppress one, and in a signed repository the publish job would sign its forgery
//! (the attacker review of F5).
use crate::installable::{Tag, push_standapp};
use crate::support::{Aur, Bed, S3, SigningKey, docker, repoctl, tempdir, text};
use camino::Utf8Path;

/// Replaces the linkage the results file in `dist` records for `pkgbase` with `linkage`, as a
/// compromised shard runner would write it.
fn forge_results(dist: &Utf8Path, pkgbase: &str, linkage: serde_json::Value) {
    let mut found = std::fs::read_dir(dist).unwrap().map(|e| e.unwrap().path());
    let file = found
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("repoctl-results-")))
        .expect("the shard's results file");
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(json[pkgbase].is_object(), "{pkgbase} in the results file: {json}");
    json[pkgbase]["linkage"] = linkage;
    std::fs::write(&file, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

/// The linkage recorded with `pkgbase`'s last build in the status object `bytes`.
fn recorded_linkage(bytes: &[u8], pkgbase: &str) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    json["packages"][pkgbase]["built"]["linkage"].clone()
}

const BUCKET: &str = "shardlink";

#[test]
fn a_shards_forged_linkage_is_not_signed_into_the_status_object() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    s3.create_bucket(BUCKET);
    let aur = Aur::start();
    aur.push_fixture("hello");
    let (_t, dir) = tempdir();
    let key = SigningKey::fixture();
    let mut env = s3.env();
    env.extend([("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string()), key.env()]);
    let config = dir.join("repo.yaml");
    // An image whose official repositories come with their `.files` databases: a soname no
    // official package holds is judged gone.
    let yaml = format!(
        "name: {BUCKET}\ns3:\n  bucket: {BUCKET}\n  endpoint: {}\n  acl: public-read\nbuilder:\n  image: repoctl-testbed:prev\n\
sign:\n  key: {}\nsnapshots:\n  keep: 0\npackages:\n  - hello\n",
        s3.endpoint, key.fingerprint
    );
    std::fs::write(&config, yaml).unwrap();
    let run = |args: &[&str]| repoctl(&[args, &["--config", config.as_str()][..]].concat(), &env);

    // The shard builds hello honestly, then says it needs libgone.so.7, an official library
    // when it was built and gone now: what would force a dotted-pkgrel rebuild (issue 26).
    let dist = dir.join("dist");
    let shard = run(&["build", "--no-publish", "--no-progress", "--out", dist.as_str()]);
    assert_eq!(shard.status.code(), Some(0), "{}", text(&shard));
    let gone = serde_json::json!({
        "packages": {"hello": {"depends": [], "provides": [], "needs_sonames": ["libgone.so.7"], "provides_sonames": []}},
        "official": null,
        "official_sonames": ["libgone.so.7"],
    });
    forge_results(&dist, "hello", gone);
    let published = run(&["publish", dist.as_str()]);
    assert_eq!(published.status.code(), Some(0), "{}", text(&published));

    let status = s3.get(BUCKET, &format!("{BUCKET}.status.json"));
    let linkage = recorded_linkage(&status, "hello");
    assert!(!linkage.to_string().contains("libgone"), "the shard's linkage was recorded: {linkage}");
    let hello = &linkage["packages"]["hello"];
    assert!(hello["needs_sonames"].is_array() && hello["depends"].is_array(), "hello's own linkage: {linkage}");
    let public = std::fs::read_to_string(&key.public_key).unwrap();
    let fingerprint = repoctl::pgp::Fingerprint::parse(&key.fingerprint).unwrap();
    let public = repoctl::sign::PublicKey::from_armored(&public, &fingerprint).unwrap();
    assert!(public.verify(&status, &s3.get(BUCKET, &format!("{BUCKET}.status.json.sig"))), "not signed");
    let plan = run(&["plan"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(!text(&plan).contains("libgone.so.7 is gone"), "the forged linkage drove a rebuild: {}", text(&plan));
}

#[test]
fn a_shard_cannot_suppress_a_soname_rebuild_by_hiding_its_linkage() {
    let Some(_docker) = docker() else { return };
    let tag = Tag(format!("repoctl-testbed:it-shardlink-{}", std::process::id()));
    tag.point_at("repoctl-testbed:prev");
    let bed = Bed::empty();
    let (_s, sources) = tempdir();
    push_standapp(&bed, &sources);
    let yaml =
        format!("name: shardlink\nlocal:\n  path: ./repo\nbuilder:\n  image: {}\npackages:\n  - standapp\n", tag.0);
    std::fs::write(&bed.config, yaml).unwrap();

    // Week 1: a shard builds standapp against libstand.so.1 and says it needs nothing.
    let dist = bed.dir.join("dist");
    let shard = bed.run("build", &["--no-publish", "--no-progress", "--out", dist.as_str()]);
    assert_eq!(shard.status.code(), Some(0), "{}", text(&shard));
    let nothing = serde_json::json!({
        "packages": {"standapp": {"depends": [], "provides": [], "needs_sonames": [], "provides_sonames": []}},
        "official": null,
    });
    forge_results(&dist, "standapp", nothing);
    let published = bed.run("publish", &[dist.as_str()]);
    assert_eq!(published.status.code(), Some(0), "{}", text(&published));
    let status = std::fs::read(bed.repo().join("shardlink.status.json")).unwrap();
    let linkage = recorded_linkage(&status, "standapp");
    let needs = linkage["packages"]["standapp"]["needs_sonames"].to_string();
    assert!(needs.contains("libstand.so.1"), "the file's own linkage is recorded: {linkage}");
    assert!(linkage["official_sonames"].to_string().contains("libstand.so.1"), "official today: {linkage}");

    // Week 2: libstand.so.1 is gone from the official repositories; the plan rebuilds standapp.
    tag.point_at("repoctl-testbed:next");
    let plan = bed.run("plan", &[]);
    assert!(text(&plan).contains("rebuild: libstand.so.1 is gone (1.0-1.1)"), "{}", text(&plan));
}
