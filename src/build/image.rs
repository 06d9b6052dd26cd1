//! The builder image: `builder.image` plus the recipe in images/builder/, which is embedded
//! in the binary so an installed repoctl needs no checkout. It is built once per base image
//! and recipe (the tag is their hash) and reused by every container of every run.
use crate::docker::{Docker, DockerError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const RECIPE: &[(&str, &str)] = &[
    ("Dockerfile", include_str!("../../images/builder/Dockerfile")),
    ("setup.sh", include_str!("../../images/builder/setup.sh")),
    ("prepare.sh", include_str!("../../images/builder/prepare.sh")),
    ("keys.sh", include_str!("../../images/builder/keys.sh")),
    ("fetch.sh", include_str!("../../images/builder/fetch.sh")),
    ("build.sh", include_str!("../../images/builder/build.sh")),
    ("collect.sh", include_str!("../../images/builder/collect.sh")),
    ("vcs.sh", include_str!("../../images/builder/vcs.sh")),
    ("refresh.sh", include_str!("../../images/builder/refresh.sh")),
    ("syncdbs.sh", include_str!("../../images/builder/syncdbs.sh")),
    ("syncdigests.sh", include_str!("../../images/builder/syncdigests.sh")),
];

/// Makes sure the builder image for `base` exists and returns its tag.
pub async fn ensure_builder_image(
    docker: &Docker,
    base: &str,
    log: &mut (dyn FnMut(&str) + Send),
) -> Result<String, DockerError> {
    let base_id = match docker.image_id(base).await? {
        Some(id) => id,
        None => {
            docker.pull_image(base, log).await?;
            docker.image_id(base).await?.ok_or_else(|| DockerError::NoImage(base.to_string()))?
        }
    };
    let tag = builder_tag(&base_id);
    if docker.image_id(&tag).await?.is_some() {
        return Ok(tag);
    }
    let args = HashMap::from([("BASE_IMAGE".to_string(), base.to_string())]);
    docker.build_image(&tag, recipe_tar(), &args, log).await?;
    Ok(tag)
}

/// The pacman package cache every build container of every run shares (a Docker volume).
pub const PACMAN_CACHE_VOLUME: &str = "repoctl-pacman-cache";

fn builder_tag(base_id: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(base_id.as_bytes());
    for (name, body) in RECIPE {
        hash.update(name.as_bytes());
        hash.update(body.as_bytes());
    }
    format!("repoctl-builder:{}", &format!("{:x}", hash.finalize())[..16])
}

fn recipe_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, body) in RECIPE {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o755);
        header.set_cksum();
        // Appending to a Vec cannot fail.
        let _ = builder.append_data(&mut header, name, body.as_bytes());
    }
    builder.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_changes_with_the_base_image() {
        assert_ne!(builder_tag("sha256:aaa"), builder_tag("sha256:bbb"));
        let hash = builder_tag("sha256:aaa").strip_prefix("repoctl-builder:").unwrap().to_string();
        assert!(hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{hash}");
    }

    #[test]
    fn the_recipe_archive_holds_every_file() {
        let tar = recipe_tar();
        let mut archive = tar::Archive::new(&tar[..]);
        let names: Vec<String> =
            archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        assert_eq!(
            names,
            [
                "Dockerfile",
                "setup.sh",
                "prepare.sh",
                "keys.sh",
                "fetch.sh",
                "build.sh",
                "collect.sh",
                "vcs.sh",
                "refresh.sh",
                "syncdbs.sh",
                "syncdigests.sh"
            ]
        );
        // Every script in the archive is copied into the image by the Dockerfile.
        let copy = RECIPE[0].1.lines().find(|l| l.starts_with("COPY ")).expect("a COPY line");
        for script in names.iter().filter(|n| n.ends_with(".sh")) {
            assert!(copy.split_whitespace().any(|w| w == script), "the Dockerfile does not copy {script}");
        }
    }
}
