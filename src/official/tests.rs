use super::*;

use crate::official::testing::sync_db;
use std::time::UNIX_EPOCH;

/// [core] and [extra] much as Arch has them, plus the cases the rules turn on.
fn official() -> OfficialRepos {
    let core = sync_db(&[
        ("bash", "5.2.037-5", &["sh"]),
        ("glibc", "2.41+r9+ga1b2c3d-1", &[]),
        ("gcc-libs", "14.2.1+r753+g1cd744a6828f-1", &["libgcc", "libstdc++", "libgcc_s.so=1-64"]),
        ("zz-last", "1.0-1", &["shared-tool=2.0"]),
    ]);
    let extra = sync_db(&[
        ("rust", "1:1.86.0-1", &["cargo", "rustfmt"]),
        ("aa-first", "1.0-1", &["shared-tool=3.0", "extra-only"]),
        ("ab-second", "1.0-1", &["extra-only"]),
        ("pkg-config-ng", "2.3.0-1", &["pkg-config=2.3.0"]),
        ("pkg-config", "0.29-1", &[]),
    ]);
    OfficialRepos::from_sync_dbs(&[("core".into(), core), ("extra".into(), extra)]).unwrap()
}

fn satisfier(official: &OfficialRepos, dep: &str) -> Option<(String, String)> {
    official.satisfier(dep).map(|p| (p.repo.clone(), p.name.clone()))
}

fn some(repo: &str, name: &str) -> Option<(String, String)> {
    Some((repo.to_string(), name.to_string()))
}

#[test]
fn repositories_keep_pacman_conf_order_and_every_package() {
    let official = official();
    assert_eq!(official.repos(), ["core", "extra"]);
    assert_eq!((official.len(), official.is_empty()), (9, false));
    assert!(OfficialRepos::default().is_empty());
}

#[test]
fn a_pkgname_satisfies_with_a_version_that_fits() {
    let official = official();
    assert_eq!(satisfier(&official, "glibc"), some("core", "glibc"));
    assert_eq!(satisfier(&official, "glibc>=2.40"), some("core", "glibc"));
    assert_eq!(satisfier(&official, "rust>=1:1.80"), some("extra", "rust"));
    assert_eq!(satisfier(&official, "glibc>=3"), None, "too old, and nothing provides glibc");
    assert_eq!(satisfier(&official, "rust>=1.90"), some("extra", "rust"), "an epoch outranks any pkgver");
    assert_eq!(satisfier(&official, "rust<1:1.80"), None);
    assert_eq!(satisfier(&official, "no-such-name"), None);
}

#[test]
fn provisions_satisfy_and_an_unversioned_one_only_unversioned_dependencies() {
    let official = official();
    assert_eq!(satisfier(&official, "sh"), some("core", "bash"));
    assert_eq!(satisfier(&official, "cargo"), some("extra", "rust"));
    assert_eq!(satisfier(&official, "libgcc_s.so=1-64"), some("core", "gcc-libs"));
    assert_eq!(satisfier(&official, "libgcc_s.so>=1"), some("core", "gcc-libs"));
    assert_eq!(satisfier(&official, "cargo>=1.0"), None, "rust provides cargo without a version");
    assert_eq!(satisfier(&official, "sh>=5"), None);
}

#[test]
fn repository_order_decides_between_providers_then_pkgname() {
    let official = official();
    // core's zz-last comes before extra's aa-first, whatever their names.
    assert_eq!(satisfier(&official, "shared-tool"), some("core", "zz-last"));
    // A version only the later repository's provider has.
    assert_eq!(satisfier(&official, "shared-tool>=3"), some("extra", "aa-first"));
    // Within one repository, libalpm's package cache is sorted by pkgname.
    assert_eq!(satisfier(&official, "extra-only"), some("extra", "aa-first"));
    let reversed = OfficialRepos::from_sync_dbs(&[
        ("extra".into(), sync_db(&[("aa-first", "1.0-1", &["shared-tool=3.0"])])),
        ("core".into(), sync_db(&[("zz-last", "1.0-1", &["shared-tool=2.0"])])),
    ])
    .unwrap();
    assert_eq!(satisfier(&reversed, "shared-tool"), some("extra", "aa-first"));
}

#[test]
fn a_pkgname_beats_a_provider_and_never_provides_itself() {
    let official = official();
    // pkg-config-ng sorts first and provides pkg-config, but the package named so wins.
    assert_eq!(satisfier(&official, "pkg-config"), some("extra", "pkg-config"));
    // Too old by name: a provider with a fitting version is taken.
    assert_eq!(satisfier(&official, "pkg-config>=2"), some("extra", "pkg-config-ng"));
    // A name in a later repository beats a provider in an earlier one.
    let later_name = OfficialRepos::from_sync_dbs(&[
        ("core".into(), sync_db(&[("bash", "5.2-1", &["sh"])])),
        ("extra".into(), sync_db(&[("sh", "1.0-1", &[])])),
    ])
    .unwrap();
    assert_eq!(satisfier(&later_name, "sh"), some("extra", "sh"));
    // A package's own provision of its name does not rescue a version its pkgname fails.
    let own = OfficialRepos::from_sync_dbs(&[("core".into(), sync_db(&[("foo", "1.0-1", &["foo=2.0"])]))]).unwrap();
    assert_eq!(satisfier(&own, "foo>=2"), None);
}

#[test]
fn a_broken_database_is_an_error() {
    let dbs = [("core".to_string(), b"\x28\xb5\x2f\xfdgarbage".to_vec())];
    assert!(OfficialRepos::from_sync_dbs(&dbs).is_err());
    assert_eq!(
        OfficialRepos::index([("core", &dbs[0].1[..])]).map(|_| ()).map_err(|(repo, _)| repo),
        Err("core".to_string())
    );
}

/// A tar of `syncdbs/` as Docker copies it out: (name, body, mtime).
fn copied_out(files: &[(&str, &str, u64)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, body, mtime) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(*mtime);
        header.set_cksum();
        builder.append_data(&mut header, format!("syncdbs/{name}"), body.as_bytes()).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn the_copied_out_archive_unpacks_in_the_listed_order_with_servers_and_times() {
    let tar = copied_out(&[
        ("core.db", "C", 1_800_000_000),
        ("extra.db", "E", 1_800_000_100),
        ("repos", "extra\ncore\n", 1),
        (
            "servers",
            "core https://a.example/core/os/x86_64\nextra https://a.example/extra\nextra https://b.example/extra\n",
            1,
        ),
    ]);
    let dbs = image::unpack(&tar).unwrap();
    let server = |s: &str| s.to_string();
    assert_eq!(
        dbs,
        [
            SyncDb {
                repo: "extra".into(),
                servers: vec![server("https://a.example/extra"), server("https://b.example/extra")],
                modified: Some(1_800_000_100),
                bytes: b"E".to_vec(),
                libraries: None,
            },
            SyncDb {
                repo: "core".into(),
                servers: vec![server("https://a.example/core/os/x86_64")],
                modified: Some(1_800_000_000),
                bytes: b"C".to_vec(),
                libraries: None,
            },
        ]
    );
    let no_db = copied_out(&[("repos", "core\n", 1), ("servers", "", 1)]);
    assert!(matches!(image::unpack(&no_db), Err(OfficialError::Copy(_))));
    let no_servers = copied_out(&[("core.db", "C", 1), ("repos", "core\n", 1)]);
    assert!(matches!(image::unpack(&no_servers), Err(OfficialError::Copy(_))));
}

#[test]
fn the_stamp_round_trips_and_refuses_unsafe_names() {
    let stamp = cache::Stamp {
        builder_image: "repoctl-builder:0011".into(),
        repos: vec![cache::StampRepo {
            name: "core".into(),
            servers: vec!["https://m/core".into()],
            modified: Some(42),
        }],
    };
    assert_eq!(cache::Stamp::parse(&serde_json::to_string(&stamp).unwrap()), Some(stamp));
    let unsafe_name = r#"{"builder_image": "x", "repos": [{"name": "../etc", "servers": [], "modified": null}]}"#;
    assert_eq!(cache::Stamp::parse(unsafe_name), None);
    // The stamp of the hour-long cache that came before.
    assert_eq!(cache::Stamp::parse("builder-image x\nfetched-unix-ms 1\nrepo core\n"), None);
}

#[test]
fn a_repository_is_checked_where_its_servers_are() {
    let servers = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(origin(&servers(&["file:///srv/archlinux/core/os/x86_64"])), Origin::Image);
    assert_eq!(origin(&servers(&["https://geo.mirror.pkgbuild.com/core/os/x86_64", "http://m/core"])), Origin::Mirrors);
    assert_eq!(origin(&servers(&["HTTPS://M.EXAMPLE/core"])), Origin::Mirrors, "schemes are case-insensitive");
    assert_eq!(origin(&servers(&["file:///srv/core", "https://m/core"])), Origin::Container);
    assert_eq!(origin(&servers(&["ftp://m/core"])), Origin::Container);
    assert_eq!(origin(&[]), Origin::Container);
}

#[test]
fn urls_and_dates_are_pacmans() {
    // alpm_db_update: SERVER/REPO.db, the server's one trailing slash removed.
    assert_eq!(mirror::repo_file_url("https://m/core/os/x86_64", "core", "db"), "https://m/core/os/x86_64/core.db");
    assert_eq!(mirror::repo_file_url("https://m/core/os/x86_64/", "core", "db"), "https://m/core/os/x86_64/core.db");
    assert_eq!(
        mirror::repo_file_url("https://m/core/os/x86_64", "core", "files"),
        "https://m/core/os/x86_64/core.files"
    );
    // RFC 9110's IMF-fixdate, both ways.
    assert_eq!(mirror::http_date(784_111_777).as_deref(), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
    assert_eq!(mirror::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
    assert_eq!(mirror::parse_http_date("yesterday"), None);
}

fn utf8_tempdir() -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
    (dir, path)
}

fn db(repo: &str, servers: &[&str], modified: Option<i64>, bytes: Vec<u8>) -> SyncDb {
    SyncDb {
        repo: repo.into(),
        servers: servers.iter().map(|s| s.to_string()).collect(),
        modified,
        bytes,
        libraries: None,
    }
}

/// The inode of a file: a new one whenever the cache rewrites it (a rename).
fn inode(path: &Utf8Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&fs_err::metadata(path).unwrap())
}

#[test]
fn the_cache_is_of_one_builder_image_and_rewrites_only_what_changed() {
    let (_t, dir) = utf8_tempdir();
    let core = db("core", &["file:///srv/core"], Some(1), sync_db(&[("bash", "5.2-1", &["sh"])]));
    let extra = db("extra", &["https://m/extra"], Some(2), sync_db(&[("rust", "1:1.86.0-1", &["cargo"])]));
    cache::store(&dir, "img:a", &[core.clone(), extra.clone()], &|_| true).unwrap();
    assert_eq!(cache::read(&dir, "img:a"), Some(vec![core.clone(), extra.clone()]));
    assert_eq!(cache::read(&dir, "img:b"), None, "another builder image");
    let core_inode = inode(&dir.join("core.db"));
    let newer = SyncDb { modified: Some(3), bytes: sync_db(&[("rust", "1:1.87.0-1", &["cargo"])]), ..extra };
    cache::store(&dir, "img:a", &[core.clone(), newer.clone()], &|db| db.repo == "extra").unwrap();
    assert_eq!(inode(&dir.join("core.db")), core_inode, "an unchanged database is not rewritten");
    assert_eq!(cache::read(&dir, "img:a"), Some(vec![core, newer]));
    // No temporary file is left beside the cache.
    let mut names: Vec<String> =
        fs_err::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["core.db", "extra.db", "stamp"]);
}

#[tokio::test]
async fn a_repository_inside_the_image_is_current_without_a_request() {
    let (_t, dir) = utf8_tempdir();
    // Nothing serves this path on the host: it is inside the builder image.
    let core = db("core", &["file:///srv/archlinux/core/os/x86_64"], Some(1), sync_db(&[("bash", "5.2-1", &["sh"])]));
    cache::store(&dir, "img:a", &[core], &|_| true).unwrap();
    let official = from_cache(&dir, "img:a").await.unwrap().expect("the cache is used");
    assert_eq!(satisfier(&official, "sh"), some("core", "bash"));
    assert!(from_cache(&dir, "img:b").await.unwrap().is_none(), "another builder image's cache");
    // A copy damaged on disk is fetched again rather than read.
    fs_err::write(dir.join("core.db"), b"garbage").unwrap();
    assert!(from_cache(&dir, "img:a").await.unwrap().is_none());
    // A server only the image's pacman can ask: fetched again through it.
    let ftp = db("core", &["ftp://m/core"], Some(1), sync_db(&[("bash", "5.2-1", &["sh"])]));
    cache::store(&dir, "img:a", &[ftp], &|_| true).unwrap();
    assert!(from_cache(&dir, "img:a").await.unwrap().is_none());
}

/// `python3 -m http.server` on loopback, serving a directory: a real server's answers to
/// `If-Modified-Since` (304 when the file's mtime is not newer), killed when dropped.
struct HttpServer {
    child: std::process::Child,
    url: String,
}

impl HttpServer {
    fn start(root: &Utf8Path) -> HttpServer {
        let port = free_port();
        let child = std::process::Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory", root.as_str(), &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs http.server");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "http.server did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        HttpServer { child, url: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on (the listener that found it is closed).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Puts `bytes` at `path` with the modification time `mtime` (Unix seconds).
fn serve(path: &Utf8Path, bytes: &[u8], mtime: u64) {
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, bytes).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(UNIX_EPOCH + std::time::Duration::from_secs(mtime)).unwrap();
}

fn stamp_modified(dir: &Utf8Path) -> Option<i64> {
    cache::read(dir, "img:a").unwrap()[0].modified
}

#[tokio::test]
async fn a_mirror_is_asked_as_pacman_asks_it() {
    let (_w, www) = utf8_tempdir();
    let served = www.join("core/os/x86_64/core.db");
    let (v1, v2) = (sync_db(&[("bash", "5.2-1", &["sh"])]), sync_db(&[("dash", "0.5-1", &["sh"])]));
    serve(&served, &v1, 1_800_000_000);
    let server = HttpServer::start(&www);
    let down = format!("http://127.0.0.1:{}/core/os/x86_64", free_port());
    // pacman-conf prints servers as written: a trailing slash is pacman's to drop.
    let live = format!("{}/core/os/x86_64/", server.url);
    let (_t, dir) = utf8_tempdir();
    // A kept copy with no time: asked without a condition. The first server is down.
    let old = sync_db(&[("zsh", "5.9-1", &["sh"])]);
    cache::store(&dir, "img:a", &[db("core", &[&down, &live], None, old)], &|_| true).unwrap();

    // 1. 200: stored, with the server's Last-Modified.
    let official = from_cache(&dir, "img:a").await.unwrap().unwrap();
    assert_eq!(satisfier(&official, "sh"), some("core", "bash"));
    assert_eq!(fs_err::read(dir.join("core.db")).unwrap(), v1);
    assert_eq!(stamp_modified(&dir), Some(1_800_000_000));

    // 2. 304: the copy is kept, nothing rewritten.
    let (db_inode, stamp_inode) = (inode(&dir.join("core.db")), inode(&dir.join("stamp")));
    let official = from_cache(&dir, "img:a").await.unwrap().unwrap();
    assert_eq!(satisfier(&official, "sh"), some("core", "bash"));
    assert_eq!((inode(&dir.join("core.db")), inode(&dir.join("stamp"))), (db_inode, stamp_inode));

    // 3. The mirror's database changed: 200, replaced.
    serve(&served, &v2, 1_800_000_100);
    let official = from_cache(&dir, "img:a").await.unwrap().unwrap();
    assert_eq!(satisfier(&official, "sh"), some("core", "dash"));
    assert_eq!(fs_err::read(dir.join("core.db")).unwrap(), v2);
    assert_eq!(stamp_modified(&dir), Some(1_800_000_100));
    assert_eq!(official.sync_db_digests()[0].1, format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&v2)));

    // 4. A server that answers 404 is skipped like one that is down.
    let missing = format!("{}/nowhere", server.url);
    cache::store(&dir, "img:a", &[db("core", &[&missing, &live], Some(1_800_000_100), v2.clone())], &|_| false)
        .unwrap();
    assert!(from_cache(&dir, "img:a").await.unwrap().is_some());
}

#[tokio::test]
async fn every_server_failing_is_an_error_naming_the_repository_and_servers() {
    let (_w, www) = utf8_tempdir();
    let server = HttpServer::start(&www);
    let down = format!("http://127.0.0.1:{}/core/os/x86_64", free_port());
    let missing = format!("{}/core/os/x86_64", server.url);
    let (_t, dir) = utf8_tempdir();
    let kept = sync_db(&[("bash", "5.2-1", &["sh"])]);
    cache::store(&dir, "img:a", &[db("core", &[&down, &missing], Some(1), kept.clone())], &|_| true).unwrap();
    let err = from_cache(&dir, "img:a").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, OfficialError::Unreachable { ref repo, .. } if repo == "core"), "{text}");
    assert!(text.contains(&format!("{down}/core.db")) && text.contains(&format!("{missing}/core.db")), "{text}");
    assert!(text.contains("404"), "{text}");
    // Never a guess from the old copy, which stays as it was.
    assert_eq!(fs_err::read(dir.join("core.db")).unwrap(), kept);
    // A server's new database that does not parse is an error too, not a refetch.
    serve(&www.join("core/os/x86_64/core.db"), b"not a database", 1_800_000_000);
    let err = from_cache(&dir, "img:a").await.unwrap_err();
    assert!(matches!(err, OfficialError::Db { ref repo, .. } if repo == "core"), "{err}");
}

/// Issue 26: the library names of a `.files` database are kept as `REPO.libraries`, dropped
/// with a replaced database, and only all repositories' together say what is official.
#[test]
fn the_library_names_of_a_files_database_are_cached_beside_it() {
    let (_t, dir) = utf8_tempdir();
    let mut core = db("core", &["file:///srv/core"], Some(1), sync_db(&[("glibc", "2-1", &[])]));
    core.libraries = Some(["libc.so.6".to_string()].into());
    cache::store(&dir, "img", std::slice::from_ref(&core), &|_| true).unwrap();
    let read = cache::read(&dir, "img").unwrap();
    assert_eq!(read[0].libraries, core.libraries);
    let official = index_dbs(&read).unwrap();
    assert_eq!((official.has_library("libc.so.6"), official.has_library("libstand.so.1")), (Some(true), Some(false)));

    let extra = db("extra", &["file:///srv/extra"], Some(1), sync_db(&[]));
    assert_eq!(index_dbs(&[core.clone(), extra]).unwrap().has_library("libc.so.6"), None, "[extra] has none");
    cache::store(&dir, "img", &[SyncDb { libraries: None, ..core }], &|_| true).unwrap();
    assert_eq!(cache::read(&dir, "img").unwrap()[0].libraries, None, "a replaced database's names are dropped");
}

#[test]
fn the_copied_out_files_database_gives_the_library_names() {
    let files = "%FILES%\nusr/lib/libstand.so.2\nusr/include/stand.h\n";
    let mut inner = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(files.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    inner.append_data(&mut header, "libstand-2-1/files", files.as_bytes()).unwrap();
    let inner = String::from_utf8(inner.into_inner().unwrap()).unwrap();
    let tar = copied_out(&[
        ("extra.db", "E", 1),
        ("extra.files", &inner, 1),
        ("repos", "extra\n", 1),
        ("servers", "extra file:///srv/extra\n", 1),
    ]);
    let dbs = image::unpack(&tar).unwrap();
    assert_eq!(dbs[0].libraries, Some(["libstand.so.2".to_string()].into()));
}
