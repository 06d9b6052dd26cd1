//! Package file names as makepkg writes them: `NAME-[EPOCH:]PKGVER-PKGREL-ARCH.pkg.tar*`,
//! and the debug package makepkg splits off.

/// A package file (`*.pkg.tar` or `*.pkg.tar.EXT`), by name: not a file named after one, such as
/// its `.sig` or repoctl's `.provenance.json`.
pub fn is_package_file(name: &str) -> bool {
    let Some(at) = name.rfind(".pkg.tar") else { return false };
    match &name[at + ".pkg.tar".len()..] {
        "" => true,
        ext => ext.strip_prefix('.').is_some_and(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_alphanumeric())),
    }
}

/// `(pkgname, pkgver-pkgrel)` of a package file named `NAME-[EPOCH:]PKGVER-PKGREL-ARCH.pkg.tar*`
/// (none of the last three contains a dash; a `.sig` suffix is fine), or None for any other name.
pub fn package_file_parts(file: &str) -> Option<(&str, &str)> {
    let stem = &file[..file.rfind(".pkg.tar")?];
    let rest = &stem[..stem.rfind('-')?];
    let name_end = rest[..rest.rfind('-')?].rfind('-')?;
    let (name, version) = (&rest[..name_end], &rest[name_end + 1..]);
    (!name.is_empty()).then_some((name, version))
}

/// Whether the package file `file` of `pkgbase` is the debug package makepkg split off: with
/// `OPTIONS=(debug strip)` makepkg names it `PKGBASE-debug` (makepkg.conf(5), "debug"), a
/// pkgname the PKGBUILD does not declare. A declared pkgname that happens to end in `-debug` is
/// an ordinary package.
pub fn is_debug_package(file: &str, pkgbase: &str, declared: &[String]) -> bool {
    package_file_parts(file)
        .is_some_and(|(name, _)| name.strip_suffix("-debug") == Some(pkgbase) && !declared.iter().any(|d| d == name))
}

#[cfg(test)]
mod tests {
    use super::package_file_parts as parts;

    #[test]
    fn the_debug_package_is_the_undeclared_pkgbase_debug() {
        let declared = ["tool".to_string(), "tool-docs".to_string()];
        assert!(super::is_debug_package("tool-debug-1.0-1-x86_64.pkg.tar.zst", "tool", &declared));
        assert!(!super::is_debug_package("tool-1.0-1-x86_64.pkg.tar.zst", "tool", &declared));
        assert!(!super::is_debug_package("tool-docs-1.0-1-any.pkg.tar.zst", "tool", &declared));
        // Another pkgbase's debug package, or a pkgname the PKGBUILD declares, is not this one's.
        assert!(!super::is_debug_package("other-debug-1.0-1-x86_64.pkg.tar.zst", "tool", &declared));
        let declares_it = ["gdb-debug".to_string()];
        assert!(!super::is_debug_package("gdb-debug-1-1-x86_64.pkg.tar.zst", "gdb", &declares_it));
    }

    #[test]
    fn package_files_are_told_from_files_named_after_them() {
        for name in
            ["foo-1-1-any.pkg.tar.zst", "foo-1-1-any.pkg.tar.xz", "foo-1-1-any.pkg.tar", "foo-1-1-any.pkg.tar.Z"]
        {
            assert!(super::is_package_file(name), "{name}");
        }
        for name in ["foo-1-1-any.pkg.tar.zst.sig", "foo-1-1-any.pkg.tar.zst.provenance.json", "foo.pkg.tar.", "README"]
        {
            assert!(!super::is_package_file(name), "{name}");
        }
    }

    #[test]
    fn package_file_names_split_into_pkgname_and_version() {
        assert_eq!(parts("foo-git-r5.abc-1-x86_64.pkg.tar.zst"), Some(("foo-git", "r5.abc-1")));
        assert_eq!(parts("lib32-foo-1:2.0-3-any.pkg.tar.xz"), Some(("lib32-foo", "1:2.0-3")));
        assert_eq!(parts("foo-1-1-any.pkg.tar.zst.sig"), Some(("foo", "1-1")));
        assert_eq!(parts("foo-1-any.pkg.tar.zst"), None);
        assert_eq!(parts("-1-1-any.pkg.tar.zst"), None);
        assert_eq!(parts("nonsense.pkg.tar.zst"), None);
        assert_eq!(parts("README"), None);
    }
}
