//! A real browser for pages repoctl writes: Debian's `chromium`, headless, loading a local file
//! and printing the DOM once the page's scripts have run (`--dump-dom`). A query string is
//! passed through, so a page that reads `location.search` (the repository page's `?q=` filter)
//! is driven the way a visitor's link would drive it.
use camino::Utf8Path;
use std::process::{Command, Stdio};

/// The DOM of `file://PATH?query` after load, as chromium serializes it. Panics when chromium
/// is missing (scripts/testbed.sh installs it) or fails.
pub fn dump_dom(page: &Utf8Path, query: &str) -> String {
    dump_dom_at(page, query, (1280, 900))
}

/// [`dump_dom`] in a window of `(width, height)` CSS pixels: a phone is 390 wide.
pub fn dump_dom_at(page: &Utf8Path, query: &str, size: (u32, u32)) -> String {
    let url = if query.is_empty() { format!("file://{page}") } else { format!("file://{page}?{query}") };
    dump_dom_url(&url, size)
}

/// The DOM of `url` (any scheme chromium loads: `http://` for a page served by moto, whose
/// links then resolve against the bucket) in a window of `(width, height)` CSS pixels.
pub fn dump_dom_url(url: &str, (width, height): (u32, u32)) -> String {
    let profile = tempfile::tempdir().expect("a browser profile directory");
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .stdin(Stdio::null())
        .output()
        .expect("chromium (Debian's package; scripts/testbed.sh installs it)");
    assert!(out.status.success(), "chromium --dump-dom {url} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
