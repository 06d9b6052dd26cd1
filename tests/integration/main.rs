//! repoctl's integration tests: one binary, real components (see tests/support).
#[path = "../support/mod.rs"]
mod support;

mod archlike;
mod aur_life;
mod aur_standin;
mod aws_paths;
mod check;
mod e2e;
mod git_sources;
mod github;
mod guide_path;
mod history;
mod installable;
mod local_lock;
mod lock;
mod logs;
mod mermaid;
mod network;
mod official;
mod patches;
mod pgp;
mod pkginfo;
mod provenance;
mod publishing;
mod release;
mod run_image;
mod sandbox;
mod scale;
mod signing;
mod sources;
mod status;
mod status_signature;
mod tree;
mod uploads;
mod versions;
mod waves;
