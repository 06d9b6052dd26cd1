//! [`take_live`] against a real target (a directory), with packages made here.
use super::*;
use crate::publish::local::LocalTarget;
use crate::trust::{Declared, check_file};

const SECRET: &str = include_str!("../../../tests/fixtures/signing/secret-key.asc");
const PRIMARY: &str = include_str!("../../../tests/fixtures/signing/fingerprint");
const NAME: &str = "tool-2.0-1-x86_64.pkg.tar.zst";

fn signer() -> Signer {
    Signer::new(SECRET, &crate::pgp::Fingerprint::parse(PRIMARY).unwrap(), "").unwrap()
}

fn declared() -> Declared {
    let (pkgbase, version, arch) = ("tool".into(), "2.0-1".into(), "x86_64".into());
    Declared { pkgbase, pkgnames: vec!["tool".into()], version, arch, vcs: false, debug: false, bump: None }
}

const PKGINFO: &str = "pkgname = tool\npkgbase = tool\npkgver = 2.0-1\narch = x86_64\nsize = 0\ndepend = glibc\n";

/// A zstd package `dir/NAME` as makepkg makes one: `.BUILDINFO` naming PKGBUILD hash `pkgbuild`,
/// `.PKGINFO` `pkginfo`, and `filler` bytes of incompressible data.
fn package(dir: &Utf8Path, pkgbuild: char, pkginfo: &str, filler: usize) -> Utf8PathBuf {
    let buildinfo = format!("format = 2\npkgname = tool\npkgbuild_sha256sum = {}\n", pkgbuild.to_string().repeat(64));
    let mut noise = vec![0; filler];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut noise);
    let mut tar = tar::Builder::new(Vec::new());
    for (entry, bytes) in [(".BUILDINFO", buildinfo.as_bytes()), (".PKGINFO", pkginfo.as_bytes()), ("usr/x", &noise)] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, entry, bytes).unwrap();
    }
    fs_err::create_dir_all(dir).unwrap();
    let path = dir.join(NAME);
    fs_err::write(&path, zstd::encode_all(tar.into_inner().unwrap().as_slice(), 1).unwrap()).unwrap();
    path
}

struct Bed {
    _tmp: tempfile::TempDir,
    dir: Utf8PathBuf,
    target: LocalTarget,
    ours: CheckedPackage,
}

/// This run's build, and a repository directory whose `NAME` is `live` (signed when `signed`).
fn bed(live: impl FnOnce(&Utf8Path) -> Utf8PathBuf, signed: bool) -> Bed {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).unwrap();
    let ours = check_file(&package(&dir.join("ours"), 'a', PKGINFO, 100), &declared()).unwrap();
    let live = live(&dir.join("theirs"));
    let repo = dir.join("repo");
    fs_err::create_dir_all(&repo).unwrap();
    fs_err::copy(&live, repo.join(NAME)).unwrap();
    let signed_bytes = if signed { fs_err::read(&live).unwrap() } else { b"other bytes".to_vec() };
    fs_err::write(repo.join(format!("{NAME}.sig")), signer().sign_bytes(&signed_bytes).unwrap()).unwrap();
    Bed { target: LocalTarget::new(repo), ours, dir, _tmp: tmp }
}

async fn take(bed: &Bed) -> Option<CheckedPackage> {
    take_live(&bed.target, &bed.ours, &signer(), &bed.dir.join("live")).await.unwrap()
}

/// Red-team finding: the live object's own `.PKGINFO` is what the gate must read. A signed
/// build of the same PKGBUILD is taken, carrying its own `depend` lines.
#[tokio::test]
async fn a_signed_rebuild_of_the_same_pkgbuild_is_taken_with_its_own_relations() {
    let bed = bed(|d| package(d, 'a', &format!("{PKGINFO}depend = libextra.so=1-64\n"), 100), true);
    let taken = take(&bed).await.expect("taken");
    assert_eq!(taken.depends(), ["glibc", "libextra.so=1-64"]);
    assert_eq!((taken.file_name(), taken.path()), (NAME, bed.dir.join("live").join(NAME).as_path()));
    assert!(bed.dir.join("live").join(format!("{NAME}.sig")).is_file());
}

/// Red-team finding: the download is bounded (no database lists the object, so by this run's
/// build's size: twice it plus 64 MiB), and nothing is kept of an oversized one.
#[tokio::test]
async fn a_live_object_far_larger_than_this_runs_build_is_not_downloaded_whole() {
    let bed = bed(|d| package(d, 'a', PKGINFO, (64 << 20) + 4096), true);
    assert!(take(&bed).await.is_none());
    assert!(!bed.dir.join("live").join(NAME).exists());
}

/// Red-team finding: the signature is checked before the bytes are parsed. A memory bomb (a
/// pax header claiming 1 GiB) with a signature of other bytes is refused without being read
/// as a package; the same bomb signed is refused by the bounded reader.
#[tokio::test]
async fn an_unsigned_or_unparseable_live_object_is_not_taken() {
    let bomb = |d: &Utf8Path| {
        let mut header = tar::Header::new_ustar();
        header.set_path("././@PaxHeader").unwrap();
        header.set_entry_type(tar::EntryType::XHeader);
        header.set_size(1 << 30);
        header.set_cksum();
        let mut encoder = zstd::Encoder::new(Vec::new(), 1).unwrap();
        std::io::Write::write_all(&mut encoder, header.as_bytes()).unwrap();
        std::io::Write::write_all(&mut encoder, &vec![0; 1 << 20]).unwrap();
        fs_err::create_dir_all(d).unwrap();
        fs_err::write(d.join(NAME), encoder.finish().unwrap()).unwrap();
        d.join(NAME)
    };
    assert!(take(&bed(bomb, false)).await.is_none());
    assert!(take(&bed(bomb, true)).await.is_none());
    let other_pkgbuild = bed(|d| package(d, 'b', PKGINFO, 100), true);
    assert!(take(&other_pkgbuild).await.is_none());
    let other_arch = bed(|d| package(d, 'a', &PKGINFO.replace("x86_64", "any"), 100), true);
    assert!(take(&other_arch).await.is_none(), "its .PKGINFO names another file");
}
