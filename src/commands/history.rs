//! `repoctl history [--json]`: the publishes the repository keeps as snapshots (issue 29,
//! [`crate::publish::history`]), newest first, each with the id `repoctl rollback` takes, its
//! time, and what it added and removed. It reads the target only. The records are not signed
//! (the databases they sit beside are): what is printed is escaped for the terminal
//! ([`crate::ui::escape`]), JSON included.
use crate::error::{Error, ExitStatus};
use crate::publish::history::{PkgVersion, Record};
use crate::ui::Printer;
use camino::Utf8Path;

/// Prints the history of the repository `config_path` describes. Exit 0, also when there is
/// none yet (said). Errors: repo.yaml, or the target.
pub(crate) async fn history(config_path: &Utf8Path, json: bool, printer: &Printer) -> Result<ExitStatus, Error> {
    let config = super::load_config(config_path)?;
    let target = crate::publish::open_target(&config).await?;
    let (records, unreadable) = crate::publish::history::list(&*target).await?;
    for problem in &unreadable {
        printer.warn(&format!(
            "left out a snapshot whose record cannot be read: {}",
            crate::ui::escape::terminal(problem)
        ));
    }
    if json {
        let text = serde_json::to_string_pretty(&serde_json::json!({ "repo": config.name, "publishes": records }))
            .map_err(|e| Error::io("cannot write JSON")(std::io::Error::other(e)))?;
        printer.out(&crate::ui::escape::json(&text));
        return Ok(ExitStatus::Success);
    }
    if records.is_empty() {
        printer.info(&format!(
            "{} has no history yet: each publish that changes {}.db keeps a snapshot (snapshots.keep in repo.yaml)",
            target.describe(),
            config.name
        ));
        return Ok(ExitStatus::Success);
    }
    printer.out(&render(&records));
    Ok(ExitStatus::Success)
}

/// The text `history` prints: per publish, newest first, a line with its id and time (and the
/// snapshot a rollback put back), then `+ pkgname version` for each addition and `- pkgname
/// version` for each removal. Escaped for the terminal.
pub(crate) fn render(records: &[Record]) -> String {
    let mut out = String::new();
    for record in records {
        let what = match &record.rollback_to {
            Some(to) => format!("  rollback to {to}"),
            None => String::new(),
        };
        out.push_str(&format!("{}  {}{what}\n", record.id, record.time));
        let lines = |sign: char, list: &[PkgVersion]| -> String {
            list.iter().map(|v| format!("  {sign} {} {}\n", v.pkgname, v.version)).collect()
        };
        out.push_str(&lines('+', &record.added));
        out.push_str(&lines('-', &record.removed));
        if record.added.is_empty() && record.removed.is_empty() {
            out.push_str("  (no package changed: the database was rewritten, e.g. re-signed)\n");
        }
    }
    crate::ui::escape::terminal(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pkgname: &str, version: &str) -> PkgVersion {
        PkgVersion { pkgname: pkgname.into(), version: version.into() }
    }

    #[test]
    fn history_lists_publishes_newest_first_with_what_they_changed() {
        let record = |id: &str, time: &str, added, removed, rollback_to: Option<&str>| Record {
            format: 1,
            id: id.into(),
            time: time.into(),
            run: "1765094400-0123456789ab-42".into(),
            database: "sha256:00".into(),
            added,
            removed,
            rollback_to: rollback_to.map(Into::into),
        };
        let records = [
            record(
                "20261207T100000.000Z-cafe0001",
                "2026-12-07T10:00:00Z",
                vec![v("hello", "1.0-1")],
                vec![v("hello", "2.0-1")],
                Some("20261206T020000.000Z-beef0001"),
            ),
            record(
                "20261207T020000.000Z-beef0002",
                "2026-12-07T02:00:00Z",
                vec![v("hello", "2.0-1"), v("lib\u{1b}[2Kfoo", "1:0.1-1")],
                vec![v("hello", "1.0-1")],
                None,
            ),
            record("20261206T020000.000Z-beef0001", "2026-12-06T02:00:00Z", vec![v("hello", "1.0-1")], vec![], None),
        ];
        insta::assert_snapshot!("history_text", render(&records));
    }
}
