use super::*;
use std::io::Read;

/// A ustar header block of type `kind` (`b'x'`, `b'L'`, `b'0'`) named `name`, whose size field
/// says `size`.
fn header(kind: u8, name: &str, size: u64) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h.as_bytes().to_vec()
}

/// `bytes` padded with zeros to whole 512-byte blocks.
fn padded(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.resize(bytes.len().div_ceil(512) * 512, 0);
    bytes
}

/// A pax extended header body of the records `key=value`.
fn pax(records: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in records {
        let rest = format!(" {k}={v}\n");
        // The length counts its own digits.
        let mut len = rest.len() + 1;
        while len != rest.len() + len.to_string().len() {
            len = rest.len() + len.to_string().len();
        }
        body.extend_from_slice(format!("{len}{rest}").as_bytes());
    }
    body
}

/// Every entry name the `tar` crate reads from `stream` through the guard, or its error.
fn names(stream: impl Read, limit: u64) -> Result<Vec<String>, String> {
    let mut archive = tar::Archive::new(TarGuard::new(stream, limit));
    let mut names = Vec::new();
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        names.push(entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned());
        std::io::copy(&mut entry, &mut std::io::sink()).map_err(|e| e.to_string())?;
    }
    Ok(names)
}

/// Counts the bytes read from it.
struct Counted<R>(R, std::rc::Rc<std::cell::Cell<u64>>);

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        self.1.set(self.1.get() + n as u64);
        Ok(n)
    }
}

#[test]
fn archives_as_makepkg_writes_them_pass_with_long_names_and_pax_headers() {
    let mut builder = tar::Builder::new(Vec::new());
    let long = format!("usr/share/{}/file", "d".repeat(300));
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o644);
    builder.append_data(&mut h, &long, &b"abc"[..]).unwrap();
    builder.append_pax_extensions([("SCHILY.xattr.user.x", &b"1"[..])]).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_size(2);
    h.set_mode(0o644);
    builder.append_data(&mut h, ".PKGINFO", &b"ok"[..]).unwrap();
    let bytes = builder.into_inner().unwrap();
    assert_eq!(names(bytes.as_slice(), 1 << 20), Ok(vec![long, ".PKGINFO".to_string()]));
}

/// Red-team finding: a pax header claiming 1 GiB made the `tar` crate read 1 GiB into memory.
/// The guard fails the read that completes its header, before any of the body is read.
#[test]
fn an_oversized_pax_or_long_name_body_fails_before_it_is_read() {
    for (kind, what) in [(b'x', "pax extended header"), (b'L', "GNU long name"), (b'K', "GNU long name")] {
        let count = std::rc::Rc::new(std::cell::Cell::new(0));
        let body = std::io::repeat(0).take(1 << 30);
        let stream = Counted(std::io::Cursor::new(header(kind, "././@x", 1 << 30)).chain(body), count.clone());
        let err = names(stream, u64::MAX).unwrap_err();
        assert!(err.contains(&format!("is a {what} of 1073741824 bytes, more than 1048576")), "{err}");
        assert!(count.get() < 64 * 1024, "read {} bytes", count.get());
    }
}

/// A pax `size` record overrides the next entry's header size (as the `tar` crate reads it):
/// the guard follows it, so an oversized long name placed where the header size says data is
/// still is caught.
#[test]
fn the_guard_follows_a_pax_size_record() {
    let records = pax(&[("size", "0")]);
    let mut stream = header(b'x', "pax", records.len() as u64);
    stream.extend(padded(records));
    // The file's header says 512 bytes of data; the pax record says 0, so what follows is a header.
    stream.extend(header(b'0', "file", 512));
    stream.extend(header(b'L', "././@LongLink", 1 << 30));
    stream.extend(vec![0; 4096]);
    let err = names(stream.as_slice(), u64::MAX).unwrap_err();
    assert!(err.contains("GNU long name of 1073741824 bytes"), "{err}");
}

#[test]
fn a_stream_past_its_limit_fails() {
    let mut stream = header(b'0', "big", 1 << 20);
    stream.extend(vec![0; 1 << 20]);
    let err = names(stream.as_slice(), 64 * 1024).unwrap_err();
    assert!(err.contains("longer than 65536 bytes uncompressed"), "{err}");
    assert_eq!(names(stream.as_slice(), 2 << 20), Ok(vec!["big".to_string()]));
}

#[test]
fn gnu_sparse_extension_blocks_are_refused() {
    let mut h = tar::Header::new_gnu();
    h.set_path("sparse").unwrap();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_size(0);
    h.as_gnu_mut().unwrap().isextended[0] = 1;
    h.set_cksum();
    let mut stream = h.as_bytes().to_vec();
    stream.extend(vec![0; 2048]);
    let err = names(stream.as_slice(), u64::MAX).unwrap_err();
    assert!(err.contains("GNU sparse file with extension blocks"), "{err}");
}
