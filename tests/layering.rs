//! The layering of `src/` (issue 13): no module imports one from a later stage of the flow
//! `config → aur → lock → plan → build → repo → publish`. Under the stages sit the leaves every stage
//! may read (ALPM formats, Docker, signing, the printer); on top sit `commands` and the
//! crate's edges (`error`, `cli`, `logging`).
//!
//! It reads the sources rather than asking the compiler: every `crate::NAME` path, and every
//! name in a `crate::{...}` group, outside comments, string literals and `#[cfg(test)]` code
//! (tests may drive a module through later ones: the plan's snapshot tests render through
//! `ui` and `commands`). `super::` paths stay inside one top-level module and are not
//! followed. It is its own small test binary because it needs neither Docker nor the test bed.
mod src_tree;
use src_tree::rust_files;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The stages, in the order a run goes through them. A stage may import an earlier stage
/// and any leaf.
const STAGES: &[&str] = &["config", "aur", "lock", "plan", "build", "repo", "publish"];

/// The leaves, with the only modules each may import: they import no stage.
const LEAVES: &[(&str, &[&str])] = &[
    ("env", &[]),
    // Causes kept in errors (boxed library errors, or words).
    ("cause", &[]),
    // ALPM formats: sync database entries, package file names, dependency strings, vercmp.
    ("alpm", &[]),
    ("pgp", &[]),
    // A problem in an input file, at its line: made by config, shown by ui.
    ("diagnostic", &[]),
    ("docker", &["env", "cause"]),
    ("ui", &["env", "diagnostic"]),
    ("sign", &["env", "pgp"]),
    // What the official repositories hold: read by aur and plan, downloaded with docker.
    ("official", &["alpm", "docker", "env"]),
    // Where a package file came from (`FILE.provenance.json`): written by build, carried by
    // publish, read by commands.
    ("provenance", &["alpm"]),
    // The checks that bind builds, signatures and publishes to the lock, as types only they
    // construct: required by build and publish alike.
    ("trust", &["alpm", "pgp", "sign", "cause", "env", "provenance"]),
];

/// On top: may import anything; nothing below may import them.
const TOP: &[&str] = &["commands", "error", "cli", "logging"];

/// Names the crate root re-exports (src/lib.rs), by the module that defines them.
const ROOT_NAMES: &[(&str, &str)] = &[("Error", "error"), ("ExitStatus", "error"), ("run", "lib")];

/// Known debt: imports that break the layering and need a design change, each naming the
/// issue that removes it. An entry that no longer matches any import fails the test, so the
/// list shrinks as the work is done.
const DEBT: &[(&str, &str, &str)] = &[];

#[test]
fn no_module_imports_a_later_stage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    check_the_table_names_every_module(&src);

    let mut violations = Vec::new();
    let mut debt_used = BTreeSet::new();
    for import in crate_imports(&src) {
        if allowed(&import.from, &import.to) {
            continue;
        }
        if let Some(debt) = DEBT.iter().find(|(f, t, _)| *f == import.from && *t == import.to) {
            debt_used.insert((debt.0, debt.1));
            continue;
        }
        violations.push(format!(
            "{}:{}: {} imports {} ({})",
            import.file,
            import.line,
            import.from,
            import.to,
            why(&import)
        ));
    }
    let stale: Vec<_> = DEBT
        .iter()
        .filter(|(f, t, _)| !debt_used.contains(&(*f, *t)))
        .map(|(f, t, why)| format!("{f} -> {t} is in DEBT but no longer imported; remove the entry ({why})"))
        .collect();
    assert!(
        violations.is_empty() && stale.is_empty(),
        "the layering config → aur → plan → build → repo → publish is broken:\n{}\n",
        violations.iter().chain(&stale).map(|v| format!("  {v}")).collect::<Vec<_>>().join("\n")
    );
}

/// Whether `from` may import `to`.
fn allowed(from: &str, to: &str) -> bool {
    if from == to || TOP.contains(&from) {
        return true;
    }
    if let Some((_, deps)) = LEAVES.iter().find(|(m, _)| *m == from) {
        return deps.contains(&to);
    }
    let stage = STAGES.iter().position(|s| *s == from).unwrap_or_else(|| panic!("{from} is in no layer"));
    is_leaf(to) || STAGES[..stage].contains(&to)
}

fn is_leaf(module: &str) -> bool {
    LEAVES.iter().any(|(m, _)| *m == module)
}

fn why(import: &Import) -> &'static str {
    match (is_leaf(&import.from), STAGES.contains(&import.to.as_str())) {
        (true, true) => "a leaf imports a stage",
        (true, false) => "a leaf imports a module its entry in LEAVES does not list",
        (false, true) => "a later stage",
        (false, false) => "a module above the stages",
    }
}

/// Every `pub mod` of src/lib.rs has a place in the table, so a new module must be given one.
fn check_the_table_names_every_module(src: &Path) {
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs is readable");
    for line in lib.lines() {
        if let Some(name) = line.trim().strip_prefix("pub mod ").and_then(|l| l.strip_suffix(';')) {
            assert!(
                STAGES.contains(&name) || is_leaf(name) || TOP.contains(&name),
                "src/lib.rs declares `{name}`, which tests/layering.rs places in no layer: add it to STAGES, LEAVES or TOP"
            );
        }
    }
}

/// One `crate::NAME` reference: in `file` at `line`, top-level module `from` names `to`.
struct Import {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// Every `crate::` reference outside test code in src/, except in lib.rs and main.rs.
fn crate_imports(src: &Path) -> Vec<Import> {
    let files = rust_files(src);
    let sources: BTreeMap<&PathBuf, Vec<char>> =
        files.iter().map(|f| (f, code_only(&std::fs::read_to_string(f).expect("readable source")))).collect();
    // Files that are test modules (`#[cfg(test)] mod tests;`), and everything under them.
    let mut test_files: Vec<PathBuf> = Vec::new();
    for (file, code) in &sources {
        for (_, _, child) in test_spans(code) {
            if let Some(name) = child {
                test_files.push(child_dir(file).join(name));
            }
        }
    }
    let is_test_file = |f: &Path| test_files.iter().any(|t| f == t.with_extension("rs") || f.starts_with(t));

    let mut imports = Vec::new();
    for (file, code) in &sources {
        let rel = file.strip_prefix(src).expect("under src");
        let from = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if from == "lib" || from == "main" || is_test_file(file) {
            continue;
        }
        let spans = test_spans(code);
        for (at, name) in crate_paths(code) {
            if spans.iter().any(|(start, end, _)| (*start..*end).contains(&at)) {
                continue;
            }
            let to = module_of(&name);
            let line = code[..at].iter().filter(|c| **c == '\n').count() + 1;
            imports.push(Import { file: format!("src/{}", rel.display()), line, from: from.clone(), to });
        }
    }
    imports
}

fn module_of(name: &str) -> String {
    if STAGES.contains(&name) || is_leaf(name) || TOP.contains(&name) {
        return name.to_string();
    }
    match ROOT_NAMES.iter().find(|(n, _)| *n == name) {
        Some((_, module)) => module.to_string(),
        None => panic!("crate::{name} is neither a module nor in ROOT_NAMES of tests/layering.rs"),
    }
}

/// Where the files of `file`'s child modules live: beside a mod.rs, under a directory named
/// after any other file.
fn child_dir(file: &Path) -> PathBuf {
    let stem = file.file_stem().unwrap().to_string_lossy();
    let parent = file.parent().unwrap();
    if ["mod", "lib", "main"].contains(&stem.as_ref()) { parent.to_path_buf() } else { parent.join(stem.as_ref()) }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The source with comments, string and char literals blanked (newlines kept), so that only
/// code is searched and line numbers still hold.
fn code_only(text: &str) -> Vec<char> {
    let c: Vec<char> = text.chars().collect();
    let mut out = c.clone();
    let at = |i: usize, s: &str| s.chars().enumerate().all(|(k, ch)| c.get(i + k) == Some(&ch));
    let mut i = 0;
    while i < c.len() {
        let start = i;
        let before = |k: usize| i.checked_sub(k).map(|j| c[j]);
        // `r"` and `br"` open a raw string only at the start of a token.
        let starts_token = |k: usize| !before(k).is_some_and(is_ident);
        if at(i, "//") {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < c.len() {
                if at(i, "/*") {
                    depth += 1;
                    i += 2;
                } else if at(i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (starts_token(1) || (before(1) == Some('b') && starts_token(2)))
            && matches!(c.get(i + 1), Some('"' | '#'))
        {
            let hashes = c[i + 1..].iter().take_while(|ch| **ch == '#').count();
            if c.get(i + 1 + hashes) != Some(&'"') {
                i += 1;
                continue; // a raw identifier, `r#type`
            }
            let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            i += 2 + hashes;
            while i < c.len() && !at(i, &close) {
                i += 1;
            }
            i += close.len();
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c[i] == '\'' && c.get(i + 1) == Some(&'\\') {
            i += 2;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            i += 3;
        } else {
            i += 1; // code, or a lifetime's quote
            continue;
        }
        for ch in &mut out[start..i.min(c.len())] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    }
    out
}

/// The items under `#[cfg(test)]`: (start, end, the name of an out-of-line `mod NAME;`).
fn test_spans(code: &[char]) -> Vec<(usize, usize, Option<String>)> {
    let text: String = code.iter().collect();
    let attr: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + attr.len() <= code.len() {
        if code[i..i + attr.len()] != attr[..] {
            i += 1;
            continue;
        }
        let start = i;
        let (mut j, mut depth) = (i + attr.len(), 0usize);
        while j < code.len() {
            match code[j] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ';' if depth == 0 => break,
                _ => {}
            }
            j += 1;
        }
        let item: String = text.chars().skip(start + attr.len()).take(j + 1 - start - attr.len()).collect();
        let words: Vec<&str> = item.split(|ch: char| !is_ident(ch)).filter(|w| !w.is_empty()).collect();
        let out_of_line = item.trim_end().ends_with(';') && words.len() >= 2 && words[words.len() - 2] == "mod";
        spans.push((start, j + 1, out_of_line.then(|| words[words.len() - 1].to_string())));
        i = j + 1;
    }
    spans
}

/// Each `crate::NAME`, and each NAME of a `crate::{A, B::C}` group: (position, NAME).
fn crate_paths(code: &[char]) -> Vec<(usize, String)> {
    let skip_ws = |mut i: usize| {
        while i < code.len() && code[i].is_whitespace() {
            i += 1;
        }
        i
    };
    let ident_at = |i: usize| -> String { code[i..].iter().take_while(|c| is_ident(**c)).collect() };
    let word: Vec<char> = "crate".chars().collect();
    let mut found = Vec::new();
    for i in 0..code.len().saturating_sub(word.len()) {
        if code[i..i + word.len()] != word[..] || (i > 0 && is_ident(code[i - 1])) {
            continue;
        }
        let j = skip_ws(i + word.len());
        if code.get(j) != Some(&':') || code.get(j + 1) != Some(&':') {
            continue;
        }
        let k = skip_ws(j + 2);
        if code.get(k) != Some(&'{') {
            let name = ident_at(k);
            if !name.is_empty() {
                found.push((i, name));
            }
            continue;
        }
        let (mut m, mut depth, mut expect_name) = (k + 1, 1, true);
        while m < code.len() && depth > 0 {
            match code[m] {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 1 => expect_name = true,
                ch if expect_name && depth == 1 && is_ident(ch) => {
                    let name = ident_at(m);
                    m += name.len();
                    if name != "self" {
                        found.push((m - name.len(), name));
                    }
                    expect_name = false;
                    continue;
                }
                _ => {}
            }
            m += 1;
        }
    }
    found
}

#[test]
fn the_scanner_sees_code_paths_and_groups_but_not_comments_strings_or_tests() {
    let code = code_only(
        "use crate::{plan::Plan, ui, self};\n\
         // crate::publish in a comment\n\
         let s = \"crate::repo\"; let r = r#\"crate::sign\"#; let c = '{';\n\
         fn f<'a>(x: &'a str) { crate::alpm::read(x) }\n\
         tokio::select! { r = crate::docker::run() => r }\n\
         #[cfg(test)]\nmod tests { use crate::commands; }\n\
         #[cfg(test)]\npub(crate) mod memory;\n",
    );
    let spans = test_spans(&code);
    let names: Vec<String> = crate_paths(&code)
        .into_iter()
        .filter(|(at, _)| !spans.iter().any(|(s, e, _)| (*s..*e).contains(at)))
        .map(|(_, n)| n)
        .collect();
    assert_eq!(names, ["plan", "ui", "alpm", "docker"]);
    assert_eq!(spans.iter().filter_map(|s| s.2.as_deref()).collect::<Vec<_>>(), ["memory"]);
}
