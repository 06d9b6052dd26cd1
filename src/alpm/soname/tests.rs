use super::*;

/// A shared object with soname `soname` and an executable that links it, made with the
/// system's C compiler (the one Rust links with) in `dir`: (library bytes, executable bytes).
fn compiled(dir: &std::path::Path, soname: &str) -> (Vec<u8>, Vec<u8>) {
    std::fs::write(dir.join("lib.c"), "int stand(void) { return 1; }\n").unwrap();
    std::fs::write(dir.join("main.c"), "int stand(void);\nint main(void) { return stand(); }\n").unwrap();
    let lib = dir.join(soname);
    let run = |args: &[&str]| {
        let out = std::process::Command::new("cc").current_dir(dir).args(args).output().expect("cc");
        assert!(out.status.success(), "cc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["-shared", "-fPIC", &format!("-Wl,-soname,{soname}"), "-o", lib.to_str().unwrap(), "lib.c"]);
    run(&["-o", "app", "main.c", lib.to_str().unwrap()]);
    (std::fs::read(lib).unwrap(), std::fs::read(dir.join("app")).unwrap())
}

fn scan(entries: &[(&str, &[u8])]) -> Linkage {
    let mut scan = SonameScan::default();
    for (path, body) in entries {
        scan.entry(path, true, body.len() as u64, &mut &body[..]).unwrap();
    }
    scan.finish(vec!["libstand".into()], vec![])
}

#[test]
fn needed_and_provided_sonames_are_read_from_elf_files() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, app) = compiled(dir.path(), "libstand.so.1");
    let linked = scan(&[("./usr/bin/app", &app), ("./usr/share/doc/README", b"text")]);
    assert!(linked.needs_sonames.contains(&"libstand.so.1".to_string()), "{linked:?}");
    assert!(linked.needs_sonames.contains(&"libc.so.6".to_string()), "{linked:?}");
    assert_eq!(linked.provides_sonames, Vec::<String>::new());
    assert_eq!(linked.depends, ["libstand"]);

    // A library in usr/lib provides its soname; one the package carries is not needed.
    let both = scan(&[("usr/lib/libstand.so.1.0.0", &lib), ("usr/bin/app", &app)]);
    assert_eq!(both.provides_sonames, ["libstand.so.1"]);
    assert!(!both.needs_sonames.contains(&"libstand.so.1".to_string()), "{both:?}");
    // A private library (not in a lib dir) provides nothing to others, and is not needed either.
    let private = scan(&[("opt/app/lib/libstand.so.1", &lib), ("opt/app/app", &app)]);
    assert_eq!(private.provides_sonames, Vec::<String>::new());
    assert!(!private.needs_sonames.contains(&"libstand.so.1".to_string()), "{private:?}");
}

#[test]
fn broken_or_huge_elf_files_are_listed_not_fatal() {
    let linkage = scan(&[("usr/bin/broken", b"\x7fELF\x02\x01garbage")]);
    assert_eq!(linkage.unread.len(), 1, "{linkage:?}");
    let mut huge = SonameScan::default();
    huge.entry("usr/bin/huge", true, MAX_ELF_BYTES + 1, &mut &b"\x7fELF"[..]).unwrap();
    assert!(huge.finish(vec![], vec![]).unread[0].starts_with("usr/bin/huge: larger than"));
}

#[test]
fn sonames_are_plain_file_names() {
    assert!(plain_name("libc.so.6") && plain_name("ld-linux-x86-64.so.2"));
    for not in ["", "\u{1b}[31mlibc.so.6", "../lib/libx.so.1", "lib x.so", &"a".repeat(256)] {
        assert!(!plain_name(not), "{not:?}");
    }
}

#[test]
fn library_names_are_soname_shaped() {
    for yes in ["libfoo.so", "libfoo.so.1", "libfoo.so.1.2.3", "ld-linux-x86-64.so.2"] {
        assert!(is_library_name(yes), "{yes}");
    }
    for no in ["libfoo.a", "libfoo.so.", "foo.sock", "libfoo.sox"] {
        assert!(!is_library_name(no), "{no}");
    }
}

#[test]
fn a_files_database_gives_its_library_names() {
    let files = "%FILES%\nusr/\nusr/lib/\nusr/lib/libstand.so\nusr/lib/libstand.so.2\nusr/lib/libstand.so.2.0.0\n\
usr/include/stand.h\nusr/share/libfake.so.9\n";
    let mut builder = tar::Builder::new(Vec::new());
    for (path, body) in [("libstand-2-1/desc", "%NAME%\nlibstand\n"), ("libstand-2-1/files", files)] {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, body.as_bytes()).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let names = library_names_in_files_db(&tar).unwrap();
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["libstand.so", "libstand.so.2", "libstand.so.2.0.0"]);
    assert!(library_names_in_files_db(b"\x28\xb5\x2f\xfdgarbage").is_err());
}
