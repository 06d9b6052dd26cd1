//! `update` of AUR packages with `patches:` (issue 27): once a pkgbase's head was examined and
//! the policy took it, its patches are applied to that commit's files. The lock entry then
//! records their digests and the patched package's version and pkgnames; a patch that no longer
//! applies holds the package at its old entry, with a report naming the patch and the fix,
//! while the rest of the update goes on. The review shows every patch after the AUR's diff.
use super::{Ctx, Examined, package_report, side};
use crate::aur::{GitClone, Universe};
use crate::error::Error;
use crate::lock::report::Status;
use crate::lock::{Entry, Lock};
use crate::trust::patch::{self, Patch};
use crate::trust::tree::LockedTree;
use camino::Utf8Path;
use std::collections::BTreeMap;

/// Docker and the builder image, connected the first time a patched `.SRCINFO` must be made.
type Maker = Option<(crate::docker::Docker, String)>;

/// What patching keeps between rounds of one update.
#[derive(Default)]
pub(super) struct State {
    maker: Maker,
    /// pkgbase -> its patched `.SRCINFO` at the examined commit.
    pub srcinfo: BTreeMap<String, crate::aur::SrcInfo>,
}

/// Applies the patches of every patched pkgbase of `bases` whose examination took a new entry,
/// replacing it in `examined` (see the module documentation), and keeps the patched `.SRCINFO`
/// in `state`, for the next round of resolution: what a patch makes the package need is
/// locked too. Errors: Docker or the builder image, when a `.SRCINFO` must be made.
pub(super) async fn patch_examined(
    ctx: &Ctx<'_>,
    old: &Lock,
    universe: &Universe,
    work: &Utf8Path,
    bases: &[String],
    examined: &mut BTreeMap<String, Examined>,
    state: &mut State,
) -> Result<(), Error> {
    for base in bases {
        let listed = |p: &&crate::config::PackageConfig| universe.listed.get(&p.name) == Some(base);
        let Some(config) = ctx.config.packages.iter().filter(listed).find(|p| !p.patches.is_empty()) else {
            continue;
        };
        let Some(found) = examined.remove(base) else { continue };
        let locked = old.entries.get(base);
        let found = match found.entry.clone() {
            Some(entry) => {
                let (found, info) = patch_one(ctx, work, entry, config, locked, found, &mut state.maker).await?;
                state.srcinfo.extend(info.map(|i| (base.clone(), i)));
                found
            }
            None => found,
        };
        examined.insert(base.clone(), found);
    }
    Ok(())
}

/// One pkgbase's entry at the examined commit, with its patches applied, and the patched
/// `.SRCINFO`; held (and None) when they do not apply or the patched `.SRCINFO` cannot be had.
async fn patch_one(
    ctx: &Ctx<'_>,
    work: &Utf8Path,
    mut entry: Entry,
    config: &crate::config::PackageConfig,
    old: Option<&Entry>,
    mut found: Examined,
    maker: &mut Maker,
) -> Result<(Examined, Option<crate::aur::SrcInfo>), Error> {
    let base = entry.name.clone();
    let (original, patched, patches) = match trees(ctx, work, &entry, config).await {
        Ok(trees) => trees,
        Err(why) => return Ok((held(&base, old, why), None)),
    };
    if patch::srcinfo_stale(&original, &patched) && maker.is_none() {
        let d = crate::docker::Docker::connect(&super::super::new_run_id(), work).await?;
        let image = super::super::shared::prepare_image(&d, ctx.config, &work.join("logs"), ctx.printer).await?;
        *maker = Some((d, image));
    }
    let m = maker.as_ref().map(|(d, image)| crate::build::patches::Maker { docker: d, image });
    let info = crate::build::patches::patched_srcinfo(&base, &original, &patched, work, m, &ctx.config.arch).await;
    let info = match info {
        Ok(info) => info,
        Err(why) => return Ok((held(&base, old, why), None)),
    };
    let digests: Vec<String> = patches.iter().map(Patch::digest).collect();
    // The nightly's `--auto` commits the lock unreviewed: a change of patches (which moves the
    // version the lock records) waits for a person's `repoctl update`, as a flagged AUR
    // commit does.
    if ctx.mode == crate::lock::policy::Mode::Auto && old.is_some_and(|o| o.patches != digests) {
        let mut report = package_report(&base, Status::Held, old, None);
        report.held = Some(crate::lock::policy::Hold::NeedsReview);
        return Ok((Examined { report, entry: None }, None));
    }
    entry.version = locked_version(old, &entry.commit, &digests, &info.version);
    entry.pkgnames = info.pkgnames.clone();
    entry.patches = digests;
    let status = match old {
        Some(o) if *o == entry => Status::Unchanged,
        Some(_) if found.report.status == Status::Unchanged => Status::Updated,
        _ => found.report.status,
    };
    found.report.status = status;
    found.report.to = Some(side(&entry));
    if status != Status::Unchanged {
        if found.report.diff.is_empty() && found.report.commits.is_empty() {
            found.report = package_report(&base, status, old, Some(&entry));
        }
        found.report.diff.push_str(&review_text(&patches));
        found.report.diff.push_str(&effect_text(&original, &patched));
    }
    found.entry = Some(entry);
    Ok((found, Some(info)))
}

/// A pkgbase whose patches cannot be applied now: held at its old entry, with why.
fn held(base: &str, old: Option<&Entry>, error: String) -> Examined {
    let mut report = package_report(base, Status::Held, old, None);
    report.held = Some(crate::lock::policy::Hold::Patches { error });
    Examined { report, entry: None }
}

/// The version the lock records for a patched package whose patched `.SRCINFO` says `made`: a
/// changed patch on the locked AUR commit gets the next dotted pkgrel after the locked version
/// ([`crate::alpm::PkgrelBump`], as a rebuild does), so clients update; the same patches on
/// the same commit keep the locked version; a new commit, or patches that make a newer version
/// themselves, start from `made`.
///
/// A new AUR commit that makes a version below the locked one (the locked one was a dotted
/// pkgrel of the same pkgver-pkgrel: `1.0-1.1`, and the AUR's next commit is still `1.0-1`)
/// also gets the next dotted pkgrel after it (`1.0-1.2`): locked at `made`, it would sit below
/// what the repository serves, never be built, and the lock would name a commit and patches
/// the repository does not hold.
pub(super) fn locked_version(old: Option<&Entry>, commit: &str, digests: &[String], made: &str) -> String {
    use std::cmp::Ordering;
    let Some(o) = old else { return made.to_string() };
    let order = crate::alpm::compare_versions(made, &o.version);
    let bump = || {
        crate::alpm::PkgrelBump::next(made, Some(&o.version))
            .map_or_else(|| made.to_string(), |b| b.version().to_string())
    };
    match order {
        Ordering::Greater => made.to_string(),
        _ if o.commit == commit && o.patches == digests => o.version.clone(),
        _ if o.commit == commit || order == Ordering::Less => bump(),
        _ => made.to_string(),
    }
}

/// `entry`'s commit from its clone, checked against `entry.files`, and those files with
/// `config`'s patches applied, with the patches read. Errors, as the hold's text.
async fn trees(
    ctx: &Ctx<'_>,
    work: &Utf8Path,
    entry: &Entry,
    config: &crate::config::PackageConfig,
) -> Result<(LockedTree, LockedTree, Vec<Patch>), String> {
    let text = |e: &(dyn std::error::Error + 'static)| crate::cause::chain(e).join(": ");
    let base = entry.name.as_str();
    let waiting = |line: &str| ctx.printer.info(line);
    let clone = GitClone::open(&ctx.aur.git_url(base), &ctx.clones.join(base), &waiting).await.map_err(|e| text(&e))?;
    let tree = clone.tree_in_history(&entry.commit).await.map_err(|e| text(&e))?;
    drop(clone);
    let original = tree.verify(base, &entry.files).map_err(|e| text(&e))?;
    let patches = crate::build::patches::read_patches(&config.patches).map_err(|e| text(&e))?;
    // update is what writes the digests: the patches are checked against their own, read once.
    let digests: Vec<String> = patches.iter().map(Patch::digest).collect();
    let locked = patch::verify(base, patches.clone(), &digests).map_err(|e| text(&e))?;
    let scratch = work.join("scratch").join(format!("{base}.patching.{}", std::process::id()));
    let patched = patch::apply(&original, &locked, &scratch).await.map_err(|e| text(&e))?;
    Ok((original, patched, patches))
}

/// The patches as the review shows them after the AUR's diff: each under a line naming it,
/// its place and digest. Rendered as the diff is (escaped for the terminal and for Markdown by
/// `lock::report`).
fn review_text(patches: &[Patch]) -> String {
    let mut out = String::new();
    for (i, p) in patches.iter().enumerate() {
        out.push_str(&format!(
            "\n# repoctl: patch {} of {}, {} ({}), applied to the AUR's files above\n",
            i + 1,
            patches.len(),
            p.written(),
            p.digest()
        ));
        out.push_str(&String::from_utf8_lossy(p.bytes()));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// What the patches do to the AUR's files at this commit, as a diff of the files before and
/// after (what is built): `git apply` may place a hunk elsewhere than its text suggests (an
/// offset, context the maintainer moved), so the reviewer sees the result, not only the patch.
fn effect_text(original: &crate::trust::tree::LockedTree, patched: &crate::trust::tree::LockedTree) -> String {
    let diff = crate::lock::diff::unified(Some(original.tree()), patched.tree());
    format!("\n# repoctl: what the patches change in the AUR's files at this commit (what is built)\n{diff}")
}

/// For `update --since` (the pull request's review of a lock change): the patches `to` locks,
/// read from repo.yaml's files when their digests are the lock's, else a line saying they are
/// not (the build will refuse them).
pub(super) fn locked_review(config: &crate::config::Config, to: &Entry) -> String {
    if to.patches.is_empty() {
        return String::new();
    }
    let listed = config.packages.iter().find(|p| p.name == to.name || to.pkgnames.contains(&p.name));
    let read = listed.map(|p| crate::build::patches::read_patches(&p.patches));
    match read {
        Some(Ok(patches)) if patches.iter().map(Patch::digest).eq(to.patches.iter().cloned()) => review_text(&patches),
        _ => format!(
            "\n# repoctl: repo.yaml's patches of {} are not the ones repoctl.lock records ({}): the build refuses them\n",
            to.name,
            to.patches.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(commit: &str, version: &str, patches: &[&str]) -> Entry {
        Entry {
            name: "greet".into(),
            path: None,
            git: None,
            commit: commit.into(),
            version: version.into(),
            pkgnames: vec!["greet".into()],
            maintainer: None,
            comaintainers: Vec::new(),
            committed: String::new(),
            files: String::new(),
            patches: patches.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// Patch text is the repository's, but shown in a pull-request body: it goes through the
    /// diff's fenced block, which no backtick run or HTML in it can close.
    #[test]
    fn the_review_shows_patches_in_the_diffs_block_whatever_they_hold() {
        let dir = tempfile::tempdir().unwrap();
        let file = camino::Utf8PathBuf::try_from(dir.path().join("evil.patch")).unwrap();
        let hostile = "--- a/PKGBUILD\n+++ b/PKGBUILD\n@@ -1 +1 @@\n-a\n+```\n+</details><img src=x>\n";
        fs_err::write(&file, hostile).unwrap();
        let patches = vec![Patch::read("patches/evil.patch", &file).unwrap()];
        let mut report = package_report("greet", Status::Updated, None, None);
        report.diff = review_text(&patches);
        let report = crate::lock::report::Report { packages: vec![report], unchanged: 0, rehashed: 0, changed: true };
        let md = crate::lock::report::render_markdown(&report);
        let block = md.split("````diff\n").nth(1).expect("a fence longer than the patch's backticks");
        let (inside, _) = block.split_once("\n````\n").expect("the block is closed by its own fence");
        assert!(
            inside.contains("patch 1 of 1, patches/evil.patch (sha256:") && inside.contains("+</details><img"),
            "{md}"
        );
    }

    #[test]
    fn a_changed_patch_on_the_same_commit_gets_the_next_dotted_pkgrel() {
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        let old = entry(&a, "1.0-1", &["sha256:1"]);
        assert_eq!(locked_version(Some(&old), &a, &["sha256:2".into()], "1.0-1"), "1.0-1.1");
        let bumped = entry(&a, "1.0-1.1", &["sha256:2"]);
        assert_eq!(locked_version(Some(&bumped), &a, &["sha256:3".into()], "1.0-1"), "1.0-1.2");
        assert_eq!(locked_version(Some(&bumped), &a, &["sha256:2".into()], "1.0-1"), "1.0-1.1");
        assert_eq!(locked_version(Some(&bumped), &b, &["sha256:3".into()], "1.0-2"), "1.0-2");
        assert_eq!(locked_version(None, &a, &["sha256:3".into()], "1.0-1"), "1.0-1");
        // A patch that raises pkgver itself needs no dotted pkgrel.
        assert_eq!(locked_version(Some(&bumped), &a, &["sha256:3".into()], "1.1-1"), "1.1-1");
        // A new AUR commit still at 1.0-1 under a locked 1.0-1.1: above it, or it is never built.
        assert_eq!(locked_version(Some(&bumped), &b, &["sha256:2".into()], "1.0-1"), "1.0-1.2");
        // A new commit at the locked version itself (no dotted pkgrel locked): as an AUR commit.
        assert_eq!(locked_version(Some(&old), &b, &["sha256:1".into()], "1.0-1"), "1.0-1");
    }
}
