//! The diff `repoctl update` shows between the locked commit and the new one, made from the
//! two commits' blobs ([`crate::trust::tree`]) with `similar` (issue 23, item 2; issue 25,
//! item 1).
//!
//! Not `git diff`: it obeys attributes, and a commit can set its own: `-diff` or `binary` turn
//! a PKGBUILD's changes into "Binary files differ", `diff=DRIVER` runs a textconv. `--text
//! --no-textconv --no-ext-diff` answer part of it, but between two commits git reads
//! `.gitattributes` from the work tree (and the index), and `--attr-source` (or
//! `GIT_ATTR_SOURCE`), which would let us point it at an empty tree, needs git 2.40 where
//! Debian 12 has 2.39. A diff of the two trees' bytes in Rust has no attribute machinery to
//! switch off: every file is shown as text (non-UTF-8 bytes replaced), a symlink as its target,
//! a mode change as git writes it. The output reads like `git diff --stat --patch`.
use crate::trust::tree::{Entry, Tree};
use similar::{ChangeTag, TextDiff};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Lines of context around each change, as git's default.
const CONTEXT: usize = 3;
/// The widest `+++--` bar of the stat.
const BAR: usize = 40;

/// One path's change: its entry before and after (None: absent).
struct Change<'a> {
    path: &'a str,
    old: Option<&'a Entry>,
    new: Option<&'a Entry>,
}

/// Every change from `old` (None: nothing, as for a package new to the lock) to `new`: a stat
/// of the changed paths, then a unified diff of each, in path order. Empty when nothing
/// changed.
pub fn unified(old: Option<&Tree>, new: &Tree) -> String {
    let paths: BTreeSet<&str> = old
        .into_iter()
        .flat_map(|t| t.entries().iter().map(Entry::path))
        .chain(new.entries().iter().map(Entry::path))
        .collect();
    let changes: Vec<Change> = paths
        .into_iter()
        .map(|path| Change { path, old: old.and_then(|t| t.get(path)), new: new.get(path) })
        .filter(|c| c.old != c.new)
        .collect();
    if changes.is_empty() {
        return String::new();
    }
    let mut patches = String::new();
    let mut counts = Vec::with_capacity(changes.len());
    for change in &changes {
        counts.push(patch(change, &mut patches));
    }
    format!("{}\n{patches}", stat(&changes, &counts))
}

fn text(entry: Option<&Entry>) -> String {
    entry.map_or_else(String::new, |e| String::from_utf8_lossy(e.content()).into_owned())
}

/// Appends the `diff --git` block of one change to `out`; returns (insertions, deletions).
fn patch(change: &Change, out: &mut String) -> (usize, usize) {
    let path = change.path;
    let _ = writeln!(out, "diff --git a/{path} b/{path}");
    match (change.old, change.new) {
        (None, Some(new)) => _ = writeln!(out, "new file mode {}", new.mode().git()),
        (Some(old), None) => _ = writeln!(out, "deleted file mode {}", old.mode().git()),
        (Some(old), Some(new)) if old.mode() != new.mode() => {
            _ = writeln!(out, "old mode {}\nnew mode {}", old.mode().git(), new.mode().git())
        }
        _ => {}
    }
    let (before, after) = (text(change.old), text(change.new));
    if before == after && change.old.is_some() && change.new.is_some() {
        return (0, 0);
    }
    let diff = TextDiff::from_lines(&before, &after);
    let from = if change.old.is_some() { format!("a/{path}") } else { "/dev/null".to_string() };
    let to = if change.new.is_some() { format!("b/{path}") } else { "/dev/null".to_string() };
    let _ = write!(out, "{}", diff.unified_diff().context_radius(CONTEXT).header(&from, &to));
    let count = |tag| diff.iter_all_changes().filter(|c| c.tag() == tag).count();
    (count(ChangeTag::Insert), count(ChangeTag::Delete))
}

/// ` PATH | N +++--` per change, then `N files changed, X insertions(+), Y deletions(-)`.
fn stat(changes: &[Change], counts: &[(usize, usize)]) -> String {
    let width = changes.iter().map(|c| c.path.chars().count()).max().unwrap_or(0);
    let most = counts.iter().map(|(i, d)| i + d).max().unwrap_or(0).max(1);
    let mut out = String::new();
    for (change, (ins, del)) in changes.iter().zip(counts) {
        let scale = |n: usize| if most <= BAR { n } else { (n * BAR).div_ceil(most) };
        let bar = format!("{}{}", "+".repeat(scale(*ins)), "-".repeat(scale(*del)));
        let line = format!(" {:<width$} | {} {bar}", change.path, ins + del);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let (ins, del) = counts.iter().fold((0, 0), |(i, d), (a, b)| (i + a, d + b));
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let (files, ins, del) = (plural(changes.len(), "file"), plural(ins, "insertion"), plural(del, "deletion"));
    let _ = writeln!(out, " {files} changed, {ins}(+), {del}(-)");
    out
}

/// `diff` coloured for a terminal as git colours it: headers bold, hunk lines cyan, added lines
/// green, removed lines red. The stat is left plain.
pub fn colour(diff: &str) -> String {
    const BOLD: &str = "\x1b[1m";
    const CYAN: &str = "\x1b[36m";
    const GREEN: &str = "\x1b[32m";
    const RED: &str = "\x1b[31m";
    const RESET: &str = "\x1b[m";
    let (mut out, mut in_patch, mut in_header) = (String::with_capacity(diff.len() * 2), false, false);
    for line in diff.split_inclusive('\n') {
        let (body, end) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        if body.starts_with("diff --git ") {
            (in_patch, in_header) = (true, true);
        } else if body.starts_with("@@") {
            in_header = false;
        }
        let colour = match body.as_bytes().first() {
            _ if !in_patch || body.is_empty() => None,
            _ if in_header => Some(BOLD),
            Some(b'@') => Some(CYAN),
            Some(b'+') => Some(GREEN),
            Some(b'-') => Some(RED),
            _ => None,
        };
        match colour {
            Some(c) => _ = write!(out, "{c}{body}{RESET}{end}"),
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::tree::Mode;

    const C: &str = "0123456789abcdef0123456789abcdef01234567";

    fn tree(entries: &[(Mode, &str, &str)]) -> Tree {
        let entries: Vec<(Mode, &str, &[u8])> = entries.iter().map(|(m, p, c)| (*m, *p, c.as_bytes())).collect();
        Tree::for_tests(C, &entries)
    }

    /// Whatever a commit's `.gitattributes` says (`-diff`, `binary`, a textconv driver), the
    /// PKGBUILD's change is shown as text; a symlink as its target; a mode change as git
    /// writes it.
    #[test]
    fn every_change_is_shown_as_text_whatever_the_attributes_say() {
        use Mode::*;
        let attributes = "PKGBUILD -diff binary diff=evil\n* -text\n";
        let old = tree(&[
            (File, ".gitattributes", attributes),
            (File, "PKGBUILD", "pkgname=hello\npkgver=1.0\npkgrel=1\n"),
            (File, "run.sh", "make\n"),
            (File, "gone.patch", "-x\n"),
        ]);
        let new = Tree::for_tests(
            C,
            &[
                (File, ".gitattributes", attributes.as_bytes()),
                (File, "PKGBUILD", b"pkgname=hello\npkgver=1.1\npkgrel=1\n"),
                (Executable, "run.sh", b"make\n"),
                (Symlink, "greeting.txt", b"/etc/shadow"),
                (File, "bin.dat", b"\xff\xfe\n"),
            ],
        );
        insta::assert_snapshot!("diff_of_two_trees", unified(Some(&old), &new));
        assert_eq!(unified(Some(&new), &new), "", "nothing changed, nothing shown");
        let added = unified(None, &tree(&[(File, "PKGBUILD", "pkgver=1\n")]));
        assert!(
            added.contains("new file mode 100644\n--- /dev/null\n+++ b/PKGBUILD\n@@ -0,0 +1 @@\n+pkgver=1\n"),
            "{added}"
        );
    }

    #[test]
    fn colour_marks_patch_lines_and_leaves_the_stat_and_context_plain() {
        let diff = " PKGBUILD | 2 +-\n 1 file changed\n\ndiff --git a/PKGBUILD b/PKGBUILD\n--- a/PKGBUILD\n+++ b/PKGBUILD\n@@ -1,2 +1,2 @@\n x\n-a\n+b\n";
        let coloured = colour(diff);
        assert!(coloured.starts_with(" PKGBUILD | 2 +-\n 1 file changed\n\n\x1b[1mdiff --git"), "{coloured:?}");
        assert!(coloured.contains("\x1b[1m--- a/PKGBUILD\x1b[m\n\x1b[1m+++ b/PKGBUILD\x1b[m\n\x1b[36m@@ -1,2 +1,2 @@\x1b[m\n x\n\x1b[31m-a\x1b[m\n\x1b[32m+b\x1b[m\n"), "{coloured:?}");
    }
}
