//! The attacker review's F5: in a signed repository the status object (`NAME.status.json`) is
//! signed (`NAME.status.json.sig`), and one that does not verify drives no decision. Someone
//! who can write the bucket but does not hold the key forges it: linkage saying a published
//! package needs a soname that is gone (which would force a dotted-pkgrel rebuild), or a copy
//! that claims to be current (which would keep a no-op run from rewriting it). repoctl acts on
//! neither, says so once, and the next publish rewrites the object signed.
use crate::support::{Aur, S3, SigningKey, docker, repo_root, repoctl, tempdir, text};

const BUCKET: &str = "statussig";
/// A builder image whose official repositories come with their `.files` databases, so that a
/// soname no official package holds is judged gone (issue 26).
const IMAGE: &str = "repoctl-testbed:prev";
const STATUS: &str = "statussig.status.json";
const SIG: &str = "statussig.status.json.sig";

/// `status` with hello's last build recording that it needs `libgone.so.7`, which an official
/// package held when it was built and none holds now: what issue 26 rebuilds.
fn with_gone_soname(status: &[u8]) -> Vec<u8> {
    let mut json: serde_json::Value = serde_json::from_slice(status).unwrap();
    let linkage = serde_json::json!({
        "packages": {"hello": {"depends": [], "provides": [], "needs_sonames": ["libgone.so.7"], "provides_sonames": []}},
        "official": null,
        "official_sonames": ["libgone.so.7"],
    });
    json["packages"]["hello"]["built"]["linkage"] = linkage;
    (serde_json::to_string_pretty(&json).unwrap() + "\n").into_bytes()
}

/// Whether the bucket's status object verifies under the fixture key by its signature.
fn verifies(s3: &S3, key: &SigningKey) -> bool {
    let public = std::fs::read_to_string(&key.public_key).unwrap();
    let fingerprint = repoctl::pgp::Fingerprint::parse(&key.fingerprint).unwrap();
    let public = repoctl::sign::PublicKey::from_armored(&public, &fingerprint).unwrap();
    public.verify(&s3.get(BUCKET, STATUS), &s3.get(BUCKET, SIG))
}

#[test]
fn a_forged_status_object_drives_no_rebuild_and_no_skip_and_is_rewritten_signed() {
    let Some(_docker) = docker() else { return };
    let s3 = S3::start();
    s3.create_bucket(BUCKET);
    let aur = Aur::start();
    aur.push_fixture("hello");
    let (_t, dir) = tempdir();
    let key = SigningKey::fixture();
    let mut env = s3.env();
    env.push(("AUR_LOCATION", aur.url.clone()));
    env.push(("REPOCTL_WORK_DIR", dir.join("work").to_string()));
    env.push(key.env());
    let config = dir.join("repo.yaml");
    let yaml = format!(
        "name: {BUCKET}\ns3:\n  bucket: {BUCKET}\n  endpoint: {}\n  acl: public-read\nbuilder:\n  image: {IMAGE}\n\
sign:\n  key: {}\nsnapshots:\n  keep: 0\npackages:\n  - hello\n",
        s3.endpoint, key.fingerprint
    );
    std::fs::write(&config, yaml).unwrap();
    let repoctl_run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--config", config.as_str()]);
        repoctl(&all, &env)
    };

    // A signed repository: its status object is signed by the key over the bytes written.
    let out = repoctl_run(&["build", "--no-progress"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(verifies(&s3, &key), "the status object's signature does not verify it");
    let genuine = s3.get(BUCKET, STATUS);

    // Legit linkage (signed by the key) still drives the rebuild: the plan says it.
    let signed = with_gone_soname(&genuine);
    let fingerprint = repoctl::pgp::Fingerprint::parse(&key.fingerprint).unwrap();
    let secret = std::fs::read_to_string(repo_root().join("tests/fixtures/signing/secret-key.asc")).unwrap();
    let signer = repoctl::sign::Signer::new(&secret, &fingerprint, "").unwrap();
    s3.put(BUCKET, SIG, signer.sign_bytes(&signed).unwrap());
    s3.put(BUCKET, STATUS, signed);
    let plan = repoctl_run(&["plan"]);
    assert!(text(&plan).contains("rebuild: libgone.so.7 is gone (1.0-1.1)"), "{}", text(&plan));
    s3.put(BUCKET, STATUS, genuine.clone());
    s3.put(BUCKET, SIG, signer.sign_bytes(&genuine).unwrap());

    // The bucket writer's forgery: the same linkage, without the key's signature (the genuine
    // object's signature left beside it).
    s3.put(BUCKET, STATUS, with_gone_soname(&genuine));
    let warning = format!("{STATUS} does not verify under key {}", key.fingerprint);
    let plan = repoctl_run(&["plan"]);
    let said = text(&plan);
    assert_eq!(plan.status.code(), Some(0), "{said}");
    assert!(!said.contains("libgone.so.7 is gone"), "a forged linkage drove a rebuild: {said}");
    assert!(
        said.contains(&warning) && said.contains("its recorded linkage and digests are ignored this run"),
        "{said}"
    );
    let shown = repoctl_run(&["status"]);
    assert!(text(&shown).contains("status object: UNVERIFIED"), "{}", text(&shown));
    let built = repoctl_run(&["build", "--no-progress"]);
    let said = text(&built);
    assert_eq!(built.status.code(), Some(0), "{said}");
    assert!(said.contains("nothing to do"), "{said}");
    assert_eq!(said.matches(&warning).count(), 2, "warned once, then said rewritten: {said}");
    assert!(said.contains("rewritten signed, without the linkage and digests it recorded"), "{said}");
    let rewritten = String::from_utf8(s3.get(BUCKET, STATUS)).unwrap();
    assert!(!rewritten.contains("libgone.so.7"), "the forged linkage was carried over: {rewritten}");
    assert!(verifies(&s3, &key), "the rewritten object is not signed by the key");

    // A forged copy that claims to be current (it records the live database and page digests,
    // and would keep a no-op run from writing): not taken as current, rewritten signed.
    let mut json: serde_json::Value = serde_json::from_slice(rewritten.as_bytes()).unwrap();
    json["run"]["id"] = "forged".into();
    let forged = (serde_json::to_string_pretty(&json).unwrap() + "\n").into_bytes();
    s3.put(BUCKET, STATUS, forged.clone());
    let built = repoctl_run(&["build", "--no-progress"]);
    assert_eq!(built.status.code(), Some(0), "{}", text(&built));
    assert!(!text(&built).contains("are current: nothing written"), "{}", text(&built));
    assert_ne!(s3.get(BUCKET, STATUS), forged, "the forgery was left as it was");
    assert!(verifies(&s3, &key), "the rewritten object is not signed by the key");

    // Signed and current now: a no-op run writes nothing.
    let before = s3.objects(BUCKET);
    let built = repoctl_run(&["build", "--no-progress"]);
    assert_eq!(built.status.code(), Some(0), "{}", text(&built));
    assert!(!text(&built).contains("does not verify"), "{}", text(&built));
    assert_eq!(s3.objects(BUCKET), before, "a no-op run over a verified, current object wrote to the bucket");

    // `sign --adopt` run as a repair of this already-signed repository, after the bucket writer
    // forged the object and deleted its signature: the object must verify as in any run, so
    // the forged linkage is not taken over and signed (attacker review of F5, MEDIUM 5).
    s3.put(BUCKET, STATUS, with_gone_soname(&s3.get(BUCKET, STATUS)));
    s3.delete(BUCKET, SIG);
    let adopted = repoctl_run(&["sign", "--adopt"]);
    assert_eq!(adopted.status.code(), Some(0), "{}", text(&adopted));
    let rewritten = String::from_utf8(s3.get(BUCKET, STATUS)).unwrap();
    assert!(!rewritten.contains("libgone.so.7"), "sign --adopt signed the forged linkage: {rewritten}");
    assert!(verifies(&s3, &key), "the object sign --adopt wrote is not signed by the key");
}
