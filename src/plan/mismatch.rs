//! Builds whose `.SRCINFO` and PKGBUILD disagreed on the version ([`Mismatch`]), kept in
//! `WORK/mismatches.json` between runs, so that the next plan does not rebuild the same commit.
use super::Mismatch;
use camino::Utf8Path;
use std::collections::BTreeMap;

const FILE: &str = "mismatches.json";

/// pkgbase -> its last mismatch; empty when none was recorded or the file is unreadable.
pub fn read_mismatches(work: &Utf8Path) -> BTreeMap<String, Mismatch> {
    fs_err::read(work.join(FILE)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

/// Records (Some) or forgets (None) the mismatch of each pkgbase given; write-then-rename.
pub fn update_mismatches(work: &Utf8Path, changes: &BTreeMap<String, Option<Mismatch>>) -> std::io::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut all = read_mismatches(work);
    for (base, m) in changes {
        match m {
            Some(m) => all.insert(base.clone(), m.clone()),
            None => all.remove(base),
        };
    }
    fs_err::create_dir_all(work)?;
    let tmp = work.join(format!(".{FILE}.{}", std::process::id()));
    fs_err::write(&tmp, serde_json::to_vec_pretty(&all).map_err(std::io::Error::other)?)?;
    fs_err::rename(&tmp, work.join(FILE))
}
