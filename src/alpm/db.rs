//! Reading a sync database (`name.db`): a tar archive, compressed with gzip, xz or zstd or not
//! at all, holding one `NAME-VERSION/desc` per package. Only the fields the plan needs are
//! read, and the input is treated as hostile: sizes are bounded and nothing panics.
//!
//! Why not alpm-repo-db: its `RepoDescFile` parser wants every field of the v1 or v2 schema,
//! and rejects what pacman 6.0's repo-add writes for an unsigned package (%MD5SUM% without
//! %PGPSIG%), which is exactly what Debian's repo-add and older Arch setups publish.
use std::io::Read;

/// A database larger than this once decompressed is refused (Arch's [extra] is ~10 MiB).
const MAX_DB_BYTES: u64 = 256 * 1024 * 1024;
const MAX_DESC_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RepoEntry {
    pub name: String,
    pub base: String,
    pub version: String,
    /// The package file, exactly as the database names it.
    pub filename: String,
    /// Whether the database carries the package's signature (`%PGPSIG%`).
    #[serde(skip)]
    pub signed: bool,
    /// `%PGPSIG%` as written: the package's detached signature, base64 (repo-add's
    /// `base64 -w0` of the `.sig` file), when the database carries one.
    #[serde(skip)]
    pub pgpsig: Option<String>,
    /// `%DEPENDS%`: what it needs installed, as dependency strings. A package gone from the
    /// AUR is planned from these (its `.SRCINFO` is gone with it).
    #[serde(skip)]
    pub depends: Vec<String>,
    /// `%PROVIDES%` as written: `name` or `name=version`.
    #[serde(skip)]
    pub provides: Vec<String>,
    /// `%SHA256SUM%`: the package file's SHA-256 (lowercase hex), when the database has it.
    #[serde(skip)]
    pub sha256: Option<String>,
    /// `%DESC%`: the package's one-line description (a PKGBUILD's `pkgdesc`: text from the AUR,
    /// to be escaped wherever it is shown).
    #[serde(skip)]
    pub desc: Option<String>,
    /// `%CSIZE%`: the package file's size in bytes.
    #[serde(skip)]
    pub csize: Option<u64>,
    /// `%BUILDDATE%`: when makepkg built it, in seconds since the Unix epoch.
    #[serde(skip)]
    pub build_date: Option<i64>,
    /// `%ARCH%`: the package's architecture (`x86_64`, `any`).
    #[serde(skip)]
    pub arch: Option<String>,
    /// `%CONFLICTS%`: what it cannot be installed with, as dependency strings.
    #[serde(skip)]
    pub conflicts: Vec<String>,
    /// `%REPLACES%`: what pacman replaces with it on `-Su`.
    #[serde(skip)]
    pub replaces: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the sync database is not a readable archive: {0}")]
    Archive(#[source] std::io::Error),
    #[error("the sync database is larger than {} MiB uncompressed", MAX_DB_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("the sync database entry {entry} is invalid: {why}")]
    Entry { entry: String, why: String },
}

/// Parses a sync database, whatever its compression. Entries come in archive order (libalpm
/// sorts them by pkgname afterwards).
pub fn read_sync_db(bytes: &[u8]) -> Result<Vec<RepoEntry>, DbError> {
    let reader = decompressor(bytes).map_err(DbError::Archive)?;
    let mut limited = reader.take(MAX_DB_BYTES + 1);
    let mut archive = tar::Archive::new(super::TarGuard::new(&mut limited, u64::MAX));
    let mut entries = Vec::new();
    for item in archive.entries().map_err(DbError::Archive)? {
        let mut item = item.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof { DbError::TooLarge } else { DbError::Archive(e) }
        })?;
        let path = item.path().map_err(DbError::Archive)?.to_string_lossy().into_owned();
        if !path.ends_with("/desc") {
            continue;
        }
        let mut text = String::new();
        (&mut item).take(MAX_DESC_BYTES).read_to_string(&mut text).map_err(DbError::Archive)?;
        entries.push(parse_desc(&text).map_err(|why| DbError::Entry { entry: path, why })?);
    }
    if limited.limit() == 0 {
        return Err(DbError::TooLarge);
    }
    Ok(entries)
}

pub(crate) fn decompressor<'a>(bytes: &'a [u8]) -> std::io::Result<Box<dyn Read + 'a>> {
    Ok(match bytes {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::GzDecoder::new(bytes)),
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Box::new(super::xz_decoder(bytes, false)?),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Box::new(zstd::stream::read::Decoder::new(bytes)?),
        [b'B', b'Z', b'h', ..] => {
            return Err(std::io::Error::other("bzip2-compressed databases are not supported; use zstd, xz or gzip"));
        }
        _ => Box::new(bytes),
    })
}

/// Reads `%NAME%`, `%BASE%`, `%VERSION%`, `%FILENAME%`, `%PROVIDES%`, `%DEPENDS%`, `%PGPSIG%`
/// (its base64 text), `%SHA256SUM%`, `%DESC%`, `%CSIZE%`, `%BUILDDATE%`, `%ARCH%`,
/// `%CONFLICTS%` and `%REPLACES%` from a desc
/// file: a `%KEY%` line, then one value
/// per line up to a blank line (libalpm's `sync_db_read`).
fn parse_desc(text: &str) -> Result<RepoEntry, String> {
    let mut fields: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    let mut key = None;
    for line in text.lines() {
        let line = line.trim();
        match (key, line.strip_prefix('%').and_then(|l| l.strip_suffix('%'))) {
            (None, Some(k)) if !k.is_empty() => key = Some(k),
            (Some(_), _) if line.is_empty() => key = None,
            (Some(k), _) => fields.entry(k).or_default().push(line),
            (None, _) => {}
        }
    }
    let get = |key: &str| -> Result<String, String> {
        match fields.get(key).and_then(|v| v.first()) {
            Some(v) if !v.is_empty() => Ok((*v).to_string()),
            _ => Err(format!("no %{key}%")),
        }
    };
    let name = get("NAME")?;
    let filename = get("FILENAME")?;
    if filename.contains('/') || filename.starts_with('.') {
        return Err(format!("unsafe %FILENAME% `{filename}`"));
    }
    let list = |key: &str| -> Vec<String> {
        fields.get(key).map(|v| v.iter().filter(|p| !p.is_empty()).map(|p| p.to_string()).collect()).unwrap_or_default()
    };
    Ok(RepoEntry {
        base: get("BASE").unwrap_or_else(|_| name.clone()),
        version: get("VERSION")?,
        filename,
        name,
        signed: get("PGPSIG").is_ok(),
        pgpsig: get("PGPSIG").ok(),
        depends: list("DEPENDS"),
        provides: list("PROVIDES"),
        sha256: get("SHA256SUM").ok().map(|h| h.to_ascii_lowercase()),
        desc: get("DESC").ok(),
        csize: get("CSIZE").ok().and_then(|n| n.parse().ok()),
        build_date: get("BUILDDATE").ok().and_then(|n| n.parse().ok()),
        arch: get("ARCH").ok(),
        conflicts: list("CONFLICTS"),
        replaces: list("REPLACES"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESC: &str = "%FILENAME%\nhello-a-1.0-1-any.pkg.tar.zst\n\n%NAME%\nhello-a\n\n%BASE%\nhello\n\n\
%VERSION%\n1.0-1\n\n%CSIZE%\n1072\n\n%MD5SUM%\nd40781a53ee96eb7fc1d255b6d443a85\n\n%ARCH%\nany\n\n";

    fn tar_with(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, body) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, body.as_bytes()).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn reads_every_compression_repo_add_can_write() {
        let plain = tar_with(&[("hello-a-1.0-1/desc", DESC)]);
        let gz = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut e, &plain).unwrap();
            e.finish().unwrap()
        };
        let xz = {
            let mut e = xz2::write::XzEncoder::new(Vec::new(), 6);
            std::io::Write::write_all(&mut e, &plain).unwrap();
            e.finish().unwrap()
        };
        let zst = zstd::encode_all(&plain[..], 3).unwrap();
        for bytes in [plain.clone(), gz, xz, zst] {
            let entries = read_sync_db(&bytes).unwrap();
            assert!(entries[0].provides.is_empty());
            assert_eq!(
                entries,
                vec![RepoEntry {
                    name: "hello-a".into(),
                    base: "hello".into(),
                    version: "1.0-1".into(),
                    filename: "hello-a-1.0-1-any.pkg.tar.zst".into(),
                    signed: false,
                    csize: Some(1072),
                    arch: Some("any".into()),
                    ..RepoEntry::default()
                }]
            );
        }
    }

    #[test]
    fn hostile_databases_are_errors_not_panics() {
        assert!(read_sync_db(b"\x28\xb5\x2f\xfdgarbage").is_err());
        let traversal = DESC.replace("hello-a-1.0-1-any.pkg.tar.zst", "../../etc/passwd");
        assert!(read_sync_db(&tar_with(&[("x/desc", &traversal)])).is_err());
        assert!(read_sync_db(&tar_with(&[("x/desc", "%NAME%\n")])).is_err());
    }

    #[test]
    fn provides_are_read_one_per_line_up_to_the_blank_line() {
        let desc = format!("%PROVIDES%\nlibfoo.so=1-64\nfoo-bin\n\n{DESC}%DEPENDS%\nglibc\n\n");
        let packages = read_sync_db(&tar_with(&[("x/desc", &desc)])).unwrap();
        assert_eq!(packages[0].provides, ["libfoo.so=1-64", "foo-bin"]);
        assert_eq!(packages[0].depends, ["glibc"]);
        assert_eq!(packages[0].name, "hello-a");
        assert_eq!(packages[0].sha256, None);
        assert_eq!((packages[0].desc.as_deref(), packages[0].build_date), (None, None));
        let described = format!("{DESC}%DESC%\nSays <b>hello</b>\n\n%BUILDDATE%\n1764448990\n\n");
        let described = &read_sync_db(&tar_with(&[("x/desc", &described)])).unwrap()[0];
        assert_eq!(described.desc.as_deref(), Some("Says <b>hello</b>"));
        assert_eq!((described.csize, described.build_date), (Some(1072), Some(1764448990)));
        let summed = format!("{DESC}%SHA256SUM%\n{}\n\n", "AB".repeat(32));
        assert_eq!(read_sync_db(&tar_with(&[("x/desc", &summed)])).unwrap()[0].sha256, Some("ab".repeat(32)));
    }

    #[test]
    fn an_embedded_signature_marks_the_entry_signed() {
        let signed = format!("{DESC}%PGPSIG%\niHUEABYIAB0WIQRQa9SRk8ynZDdiEJkZgHVFffJlbwUCaQ==\n\n");
        let entry = &read_sync_db(&tar_with(&[("x/desc", &signed)])).unwrap()[0];
        assert!(entry.signed);
        assert_eq!(entry.pgpsig.as_deref(), Some("iHUEABYIAB0WIQRQa9SRk8ynZDdiEJkZgHVFffJlbwUCaQ=="));
        assert!(!read_sync_db(&tar_with(&[("x/desc", DESC)])).unwrap()[0].signed);
    }
}
