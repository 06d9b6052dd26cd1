//! Bounds on reading a tar stream that someone else made (a package file, a sync database).
//!
//! The `tar` crate (0.4) reads the body of a GNU long-name (`L`) or long-link (`K`) entry and of
//! a pax extended header (`x`) whole into memory before it hands out the entry they describe,
//! at whatever size the entry's header says, and has no setting to cap it: a package whose
//! decompressed stream holds a pax header claiming 8 GiB makes it allocate 8 GiB. A tar stream
//! is also unbounded in length, and compression makes a few KiB decompress to terabytes.
//!
//! [`TarGuard`] sits between the decompressor and `tar::Archive`. It follows the stream's
//! headers the way the `tar` crate does (the same `tar::Header` parsing, a pax `size` record
//! overriding the next entry's size, GNU sparse extension blocks refused) and fails the read
//! that completes a header whose `L`/`K`/`x` body is larger than [`MAX_EXTENSION_BYTES`], and
//! any read past the stream's byte limit. Its errors are `std::io::Error`s (`InvalidData`),
//! which the `tar` crate passes on as the error of the entry it was reading.
use std::io::Read;

/// The largest `L`, `K` or pax `x` body let through (tar(5): makepkg's bsdtar writes pax
/// headers of a few hundred bytes; a Linux path is at most 4 KiB, an extended attribute 64 KiB).
pub const MAX_EXTENSION_BYTES: u64 = 1024 * 1024;

const BLOCK: u64 = 512;

/// Where the guard is in the stream.
enum State {
    /// Reading a header block; `block` holds the bytes read so far.
    Header,
    /// Reading an entry's body (and its padding), up to the stream offset `end`; a pax `x`
    /// body's first `pax_len` bytes are kept to read its `size` record.
    Body { end: u64, pax_len: Option<u64> },
}

/// A reader of a tar stream that fails instead of letting the `tar` crate allocate an
/// oversized extension body, or read past `limit` bytes (see the module header).
pub struct TarGuard<R> {
    inner: R,
    limit: u64,
    pos: u64,
    state: State,
    block: Vec<u8>,
    pax: Vec<u8>,
    /// A pax `size` record read, for the next entry that is not an extension header.
    pax_size: Option<u64>,
}

impl<R: Read> TarGuard<R> {
    /// Guards the tar stream `inner`, which may be at most `limit` bytes long (uncompressed).
    pub fn new(inner: R, limit: u64) -> TarGuard<R> {
        TarGuard { inner, limit, pos: 0, state: State::Header, block: Vec::new(), pax: Vec::new(), pax_size: None }
    }

    /// Follows the stream over `data`, the bytes just read at `self.pos`.
    fn follow(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        while !data.is_empty() {
            let take = match self.state {
                State::Header => (BLOCK as usize - self.block.len()).min(data.len()),
                State::Body { end, .. } => usize::try_from(end - self.pos).unwrap_or(usize::MAX).min(data.len()),
            };
            let (now, rest) = data.split_at(take);
            match self.state {
                State::Header => self.block.extend_from_slice(now),
                State::Body { pax_len: Some(len), .. } => {
                    let keep = usize::try_from(len).unwrap_or(usize::MAX).saturating_sub(self.pax.len()).min(now.len());
                    self.pax.extend_from_slice(&now[..keep]);
                }
                State::Body { .. } => {}
            }
            self.pos += take as u64;
            data = rest;
            self.step()?;
        }
        Ok(())
    }

    /// Moves to the next state when a header block or a body is complete.
    fn step(&mut self) -> std::io::Result<()> {
        match self.state {
            State::Header if self.block.len() == BLOCK as usize => {
                let block = std::mem::take(&mut self.block);
                self.state = self.after_header(&block)?;
            }
            State::Body { end, pax_len } if self.pos == end => {
                if pax_len.is_some() {
                    self.pax_size = pax_size(&std::mem::take(&mut self.pax));
                }
                self.state = State::Header;
            }
            _ => {}
        }
        Ok(())
    }

    /// What follows the header `block` (ending at `self.pos`), as the `tar` crate's
    /// `next_entry_raw` and `next_entry` read it. Errors: an oversized `L`/`K`/`x` body, a
    /// GNU sparse entry with extension blocks, an unreadable size.
    fn after_header(&mut self, block: &[u8]) -> std::io::Result<State> {
        if block.iter().all(|b| *b == 0) {
            return Ok(State::Header);
        }
        let header = tar::Header::from_byte_slice(block);
        let kind = header.entry_type();
        let recognized = header.as_gnu().is_some() || header.as_ustar().is_some();
        let extension = kind.is_gnu_longname()
            || kind.is_gnu_longlink()
            || kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions();
        // What the `tar` crate reads whole: `L`, `K` and `x` under a ustar or GNU magic (it
        // hands out a global `g` header as an entry of its own).
        let read_whole = recognized && extension && !kind.is_pax_global_extensions();
        let mut size = header.entry_size()?;
        let at = self.pos - BLOCK;
        if read_whole && size > MAX_EXTENSION_BYTES {
            return Err(invalid(format!(
                "the tar entry at byte {at} is a {} of {size} bytes, more than {MAX_EXTENSION_BYTES}",
                if kind.is_pax_local_extensions() { "pax extended header" } else { "GNU long name" }
            )));
        }
        if !read_whole {
            let pax_size = self.pax_size.take();
            if !extension && let Some(s) = pax_size {
                size = s;
            }
            if kind.is_gnu_sparse() && header.as_gnu().is_some_and(tar::GnuHeader::is_extended) {
                return Err(invalid(format!("the tar entry at byte {at} is a GNU sparse file with extension blocks")));
            }
        }
        let padded = size.checked_add(BLOCK - 1).map(|s| s & !(BLOCK - 1));
        let end = padded.and_then(|p| self.pos.checked_add(p)).ok_or_else(|| invalid("a tar entry size overflows"))?;
        let pax_len = (read_whole && kind.is_pax_local_extensions()).then_some(size);
        self.pax.clear();
        let body = State::Body { end, pax_len };
        // An empty body: the next header follows at once (an empty pax header still counts).
        if end == self.pos {
            if pax_len.is_some() {
                self.pax_size = None;
            }
            return Ok(State::Header);
        }
        Ok(body)
    }
}

/// The `size` record of a pax extended header body, as the `tar` crate reads it (its
/// `pax_extensions_value`: the first `size` record; None at the first malformed record or a
/// value that is not a u64).
fn pax_size(body: &[u8]) -> Option<u64> {
    for extension in tar::PaxExtensions::new(body) {
        let extension = extension.ok()?;
        if extension.key() != Ok("size") {
            continue;
        }
        return extension.value().ok()?.parse().ok();
    }
    None
}

/// The most memory an xz decoder may take (xz(1): `xz -9` needs 65 MiB to decompress; the
/// format allows dictionaries of up to 4 GiB, which liblzma would allocate).
pub const MAX_XZ_MEMORY: u64 = 256 * 1024 * 1024;

/// An xz decoder of `reader` whose memory is capped at [`MAX_XZ_MEMORY`] (`xz2`'s own
/// constructors set no limit); `concatenated` reads every stream of a multi-stream file, as
/// libarchive does. A stream needing more fails with liblzma's memory-limit error. Errors:
/// liblzma cannot set up a decoder (out of memory).
pub fn xz_decoder<R: Read>(reader: R, concatenated: bool) -> std::io::Result<xz2::read::XzDecoder<R>> {
    let flags = if concatenated { xz2::stream::CONCATENATED } else { 0 };
    let stream = xz2::stream::Stream::new_stream_decoder(MAX_XZ_MEMORY, flags).map_err(std::io::Error::other)?;
    Ok(xz2::read::XzDecoder::new_stream(reader, stream))
}

fn invalid(why: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, why.into())
}

impl<R: Read> Read for TarGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.pos.saturating_add(n as u64) > self.limit {
            return Err(invalid(format!("the tar stream is longer than {} bytes uncompressed", self.limit)));
        }
        self.follow(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
