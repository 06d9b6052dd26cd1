//! What a move of the lock lets in: the flags a reviewer must see. (Placeholder until the
//! assess branch lands.)
use std::collections::BTreeMap;

pub struct Snapshot {
    pub files: BTreeMap<String, String>,
    pub maintainer: Option<String>,
    pub comaintainers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Flag {
    New,
}

impl std::fmt::Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("new to the lock")
    }
}

pub fn assess(old: Option<&Snapshot>, _new: &Snapshot) -> Vec<Flag> {
    if old.is_none() { vec![Flag::New] } else { vec![] }
}

pub fn version_only(old: &Snapshot, new: &Snapshot) -> bool {
    old.files.len() == new.files.len()
}
