//! No function in src/ is longer than 60 lines (issue #13): long orchestration is written as
//! named steps. Test modules (inline `#[cfg(test)] mod ... {}` and `tests.rs` files) and
//! the functions in `LONG` are exempt; an entry of `LONG` that is short now fails the test,
//! so the list only shrinks.
mod src_tree;
use src_tree::rust_files;
use std::path::Path;

const MAX_LINES: usize = 60;

/// (file, function, why it may be longer).
const LONG: &[(&str, &str, &str)] = &[];

#[test]
fn no_function_in_src_is_longer_than_sixty_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    for file in rust_files(&root.join("src")) {
        let rel = file.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        if rel.ends_with("/tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (name, line, lines) in functions(&text) {
            if lines > MAX_LINES {
                long.push((rel.clone(), name, line, lines));
            }
        }
    }
    let mut errors = Vec::new();
    for (file, name, line, lines) in &long {
        if !LONG.iter().any(|(f, n, _)| f == file && n == name) {
            errors.push(format!(
                "{file}:{line}: fn {name} is {lines} lines (at most {MAX_LINES}): split it into named steps"
            ));
        }
    }
    for (file, name, why) in LONG {
        if !long.iter().any(|(f, n, _, _)| f == file && n == name) {
            errors.push(format!("{file}: fn {name} is short now; remove it from LONG ({why})"));
        }
    }
    assert!(errors.is_empty(), "\n{}", errors.join("\n"));
}

#[test]
fn the_scanner_measures_functions_and_leaves_test_modules_out() {
    let text = "fn short() {\n    x();\n}\n\npub async fn two(\n    a: u8,\n) -> u8 {\n    a\n}\n\n#[cfg(test)]\nmod tests {\n    fn long_test() {\n    }\n}\n";
    assert_eq!(functions(text), [("short".to_string(), 1, 3), ("two".to_string(), 5, 5)]);
}

/// (name, first line, number of lines) of every function outside `#[cfg(test)]` modules.
/// rustfmt puts a function's (and a module's) closing brace alone on a line at the
/// indentation of its `fn` (`mod`).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let closing = |i: usize| {
        let indent = lines[i].len() - lines[i].trim_start().len();
        let close = " ".repeat(indent) + "}";
        (i + 1..lines.len()).find(|&j| lines[j] == close).unwrap_or(i)
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        let inline_test_module = line == "#[cfg(test)]"
            && lines.get(i + 1).is_some_and(|next| next.contains("mod ") && next.trim_end().ends_with('{'));
        if inline_test_module {
            i = closing(i + 1) + 1;
            continue;
        }
        match fn_name(line) {
            Some(name) if !line.trim_end().ends_with(';') => {
                let last = closing(i);
                found.push((name, i + 1, last - i + 1));
                i = last + 1;
            }
            _ => i += 1,
        }
    }
    found
}

fn fn_name(line: &str) -> Option<String> {
    let mut rest = line;
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("async ").unwrap_or(rest).strip_prefix("fn ")?;
    Some(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
}
