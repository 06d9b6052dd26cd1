//! What several commands share about images and output layout: the builder image, this run's
//! image, and where `--out DIR` keeps debug packages. Command modules import this, never each
//! other.
use crate::docker::Docker;
use crate::error::Error;
use crate::ui::{Printer, Reporter};
use camino::Utf8Path;

/// Where `build --out DIR` puts debug packages, and where `repoctl publish DIR` looks for them.
pub(super) const DEBUG_SUBDIR: &str = "debug";

/// The builder image made from `base` (built once, then reused), its build logged to
/// `LOGS/builder-image.log`. Returns its tag.
pub(super) async fn prepare_image(
    docker: &Docker,
    base: &str,
    logs: &Utf8Path,
    printer: &Printer,
) -> Result<String, Error> {
    printer.step(&format!("preparing the builder image from {base}"));
    fs_err::create_dir_all(logs).map_err(Error::io(format!("cannot create {logs}")))?;
    let log_path = logs.join("builder-image.log");
    let mut log = fs_err::File::create(&log_path).map_err(Error::io("cannot write the image log"))?;
    let mut sink = |line: &str| {
        let _ = std::io::Write::write_all(&mut log, line.as_bytes());
    };
    crate::build::ensure_builder_image(docker, base, &mut sink).await.map_err(|e| {
        printer.info(&format!("  (image build log: {log_path})"));
        e.into()
    })
}

/// This run's image (the keyring, then `pacman -Syu`, once), logged to `LOGS/run-image.log`.
pub(super) async fn refresh_image(
    docker: &Docker,
    image: &str,
    logs: &Utf8Path,
    printer: &Printer,
) -> Result<String, Error> {
    printer.step("bringing the builder image up to date for this run (archlinux-keyring first, then pacman -Syu)");
    let log_path = logs.join("run-image.log");
    let mut log = fs_err::File::create(&log_path).map_err(Error::io("cannot write the image log"))?;
    let mut sink = |bytes: &[u8]| {
        let _ = std::io::Write::write_all(&mut log, bytes);
    };
    crate::build::run_image(docker, image, &mut sink).await.map_err(|e| {
        printer.info(&format!("  (log: {log_path})"));
        e.into()
    })
}
