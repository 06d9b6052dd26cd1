//! Plan problems of `git:` packages (issue 27): a lock entry that is not the repository
//! repo.yaml names. Such a package is not built until `repoctl update` locks what repo.yaml says.
use super::{Problem, Step};

/// What to do about a `git:` package that cannot be read: its repository could not be fetched,
/// holds no such subdir, or its PKGBUILD gives no `.SRCINFO` of the entry's pkgbase.
pub(super) const BROKEN_HINT: &str = "check that the repository can be fetched from this machine and holds the \
subdir, and fix its PKGBUILD there or the entry: `makepkg --printsrcinfo` must succeed and make the entry's pkgbase";

/// `e`, the lock's entry of `step`'s pkgbase, against repo.yaml's entry (`file`): a `git:`
/// package locked as an AUR commit or a directory, the reverse, or another URL or subdir.
pub(super) fn lock_problems(step: &mut Step, e: &crate::lock::Entry, file: &str) {
    let base = step.pkgbase.clone();
    let update = format!("run `repoctl update {base}`, review what it shows and commit repoctl.lock");
    let message = match (&step.git, &e.git) {
        (Some(git), None) => format!(
            "repoctl.lock holds {base} as {}, but {file} lists it as the `git:` package {}",
            if e.is_local() { "a directory" } else { "an AUR commit" },
            git.describe()
        ),
        (None, Some(locked)) => {
            format!(
                "repoctl.lock holds {base} from {}, but {file} does not list it as that `git:` package",
                locked.describe()
            )
        }
        (Some(git), Some(locked)) if git != locked => {
            format!("repoctl.lock holds {base} from {}, but {file} names {}", locked.describe(), git.describe())
        }
        _ => return,
    };
    step.problems.push(Problem::new(message, update));
}
