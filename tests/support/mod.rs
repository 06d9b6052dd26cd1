//! The test bed: real components on loopback. A moto S3 server, the AUR-compatible server in
//! aur_server.py, a real Docker daemon with the offline test image, Debian's pacman as the
//! independent client of the published repository, and Mermaid's own parser for the charts. One module per component; this file
//! only names them and re-exports what the tests name (types they only receive, such as
//! `Server` or `ObjectInfo`, stay in their modules).
#![allow(dead_code)]

mod aur;
mod aws_proxy;
mod bed;
pub mod browser;
mod docker;
mod mermaid;
mod pacman;
mod process;
mod s3;
mod s3_faults;
mod signing;

pub use aur::{Aur, copy_tree};
pub use aws_proxy::AwsPathsProxy;
pub use bed::Bed;
pub use docker::{TESTBED_IMAGE, bridge_gateway, docker, pins, repoctl_containers, superseded_images};
pub use mermaid::{mermaid_available, mermaid_blocks, read_mermaid};
pub use pacman::Pacman;
pub use process::{lock_heads, repo_root, repoctl, repoctl_as_is, repoctl_command, tempdir, text};
pub use s3::S3;
pub use s3_faults::S3Faults;
pub use signing::SigningKey;
