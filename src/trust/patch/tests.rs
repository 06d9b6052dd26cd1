use super::*;
use crate::trust::tree::{Mode, Tree};

const PKGBUILD: &str =
    "pkgname=greet\npkgver=1.0\npkgrel=1\n\npackage() {\n  echo \"greet\" > \"$pkgdir/version\"\n}\n";

const PATCH: &str = "diff --git a/PKGBUILD b/PKGBUILD\n--- a/PKGBUILD\n+++ b/PKGBUILD\n@@ -3,5 +3,5 @@ pkgver=1.0\n pkgrel=1\n \n package() {\n-  echo \"greet\" > \"$pkgdir/version\"\n+  echo \"patched\" > \"$pkgdir/version\"\n }\n";

fn locked() -> LockedTree {
    let tree = Tree::for_tests(&"a".repeat(40), &[(Mode::File, "PKGBUILD", PKGBUILD.as_bytes())]);
    let digest = tree.digest();
    tree.verify("greet", &digest).unwrap()
}

fn patch(written: &str, text: &str) -> Patch {
    Patch { written: written.to_string(), bytes: text.as_bytes().to_vec() }
}

fn scratch() -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = Utf8PathBuf::try_from(dir.path().join("patching")).unwrap();
    (dir, path)
}

#[test]
fn digests_are_sha256_of_the_bytes() {
    let d = digest(b"");
    assert_eq!(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert!(is_digest(&d));
    assert!(!is_digest("sha256:E3B0"));
    assert!(!is_digest(&d.replace("sha256:", "tree-sha256:")));
}

#[test]
fn patches_are_locked_only_when_every_digest_matches_in_order() {
    let (a, b) = (patch("a.patch", "a"), patch("b.patch", "b"));
    let locked = vec![a.digest(), b.digest()];
    assert!(verify("foo", vec![a.clone(), b.clone()], &locked).is_ok());
    let swapped = verify("foo", vec![b.clone(), a.clone()], &locked).unwrap_err().to_string();
    assert!(swapped.contains("`b.patch`") && swapped.contains("run `repoctl update foo`"), "{swapped}");
    let fewer = verify("foo", vec![a], &locked).unwrap_err().to_string();
    assert!(fewer.contains("1 patch(es) listed"), "{fewer}");
}

#[test]
fn symbolic_links_and_paths_outside_are_refused_before_git_runs() {
    let link = "diff --git a/l b/l\nnew file mode 120000\n--- /dev/null\n+++ b/l\n@@ -0,0 +1 @@\n+/etc/passwd\n";
    assert_eq!(refusal(link).as_deref(), Some("it makes a symbolic link"));
    // git takes a mode with trailing blanks, and one from the index line.
    assert!(refusal(&link.replace("120000", "120000 ")).is_some());
    let index = "diff --git a/l b/l\nindex 0000000..1111111 120000\n--- a/l\n+++ b/l\n";
    assert_eq!(refusal(index).as_deref(), Some("it makes a symbolic link"));
    let out = "--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n";
    assert!(refusal(out).unwrap().contains("`b/../x`") || refusal(out).unwrap().contains("`a/../x`"));
    assert!(refusal("--- /etc/passwd\n+++ /etc/passwd\n").is_some());
    assert!(refusal("diff --git a/.git/config b/.git/config\n").is_some());
    assert_eq!(refusal(PATCH), None);
}

#[tokio::test]
async fn a_patch_applies_to_the_locked_files_and_leaves_the_commit_id() {
    let tree = locked();
    let patches = verify("greet", vec![patch("p.patch", PATCH)], &[digest(PATCH.as_bytes())]).unwrap();
    let (_dir, scratch) = scratch();
    let patched = apply(&tree, &patches, &scratch).await.unwrap();
    let pkgbuild = String::from_utf8_lossy(patched.tree().file("PKGBUILD").unwrap()).into_owned();
    assert!(pkgbuild.contains("echo \"patched\""), "{pkgbuild}");
    assert_eq!(patched.tree().commit(), tree.tree().commit());
    assert!(srcinfo_stale(&tree, &patched));
    assert!(!scratch.exists(), "the scratch directory is removed");
}

#[tokio::test]
async fn a_patch_that_does_not_apply_is_named() {
    let tree = locked();
    let stale = PATCH.replace("-  echo \"greet\"", "-  echo \"hello\"");
    let patches = verify("greet", vec![patch("patches/greet.patch", &stale)], &[digest(stale.as_bytes())]).unwrap();
    let (_dir, scratch) = scratch();
    let err = apply(&tree, &patches, &scratch).await.unwrap_err().to_string();
    assert!(err.starts_with("patch `patches/greet.patch` does not apply to commit aaaaaaaa"), "{err}");
    assert!(err.contains("then run `repoctl update`"), "{err}");
}

#[tokio::test]
async fn the_trees_own_attributes_convert_nothing_while_it_is_patched() {
    let attributes = "* text eol=crlf ident\n";
    let entries: &[(Mode, &str, &[u8])] =
        &[(Mode::File, ".gitattributes", attributes.as_bytes()), (Mode::File, "PKGBUILD", PKGBUILD.as_bytes())];
    let tree = Tree::for_tests(&"a".repeat(40), entries);
    let digest = tree.digest();
    let tree = tree.verify("greet", &digest).unwrap();
    let patches = verify("greet", vec![patch("p.patch", PATCH)], &[digest_of(PATCH)]).unwrap();
    let (_dir, scratch) = scratch();
    let patched = apply(&tree, &patches, &scratch).await.unwrap();
    let pkgbuild = patched.tree().file("PKGBUILD").unwrap();
    assert!(!pkgbuild.contains(&b'\r'), "{}", String::from_utf8_lossy(pkgbuild));
    assert_eq!(patched.tree().file(".gitattributes"), Some(attributes.as_bytes()));
}

fn digest_of(text: &str) -> String {
    digest(text.as_bytes())
}
