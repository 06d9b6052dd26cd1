//! The user guide (docs/, an mdBook) stays true (issue 29 item 4): it builds and its links and
//! anchors hold (mdbook and linkchecker, which scripts/testbed.sh installs; under CI=true a
//! missing tool fails the test); its list of keys is what repo.yaml's JSON Schema says; every
//! command and option it or the README shows exists; the output it quotes is what the snapshot
//! tests pin; and every section of it that the code, the templates or the README names exists.
//!
//! `REPOCTL_BLESS_GUIDE=1 cargo test --test guide` rewrites docs/src/reference/keys.md from the
//! schema.
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const KEYS_PAGE: &str = "docs/src/reference/keys.md";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path, ext));
        } else if path.extension().is_some_and(|e| e == ext) {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Every page of the guide: (path relative to the repository, text).
fn pages() -> Vec<(String, String)> {
    files_under(&root().join("docs/src"), "md")
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
            let text = read(&rel);
            (rel, text)
        })
        .collect()
}

/// The fenced code blocks of a Markdown text: (info string, body, the line before the fence).
fn code_blocks(text: &str) -> Vec<(String, String, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().peekable();
    let mut before = "";
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            before = line;
            continue;
        };
        let mut body = String::new();
        for inner in lines.by_ref().take_while(|l| !l.starts_with("```")) {
            body.push_str(inner);
            body.push('\n');
        }
        blocks.push((info.to_string(), body, before.to_string()));
    }
    blocks
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// `name` on PATH or in ~/.cargo/bin (where scripts/testbed.sh installs mdbook). Missing: a
/// failure under CI=true, else None and a line saying the test is skipped.
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    let cargo_bin = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"));
    let found = path.into_iter().chain(cargo_bin).map(|d| d.join(name)).find(|p| p.is_file());
    if found.is_none() {
        let why = format!("{name} is not installed (bash scripts/testbed.sh installs it)");
        assert!(!in_ci(), "CI=true but {why}");
        eprintln!("SKIPPING the guide's build and link check: {why}; CI=true makes this a failure");
    }
    found
}

fn output_text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Builds the guide with mdbook into a fresh directory that every user may read: linkchecker,
/// run as root, drops its privileges to `nobody`.
fn build_guide(mdbook: &Path) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix("repoctl-guide-").tempdir().expect("temporary directory");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = Command::new(mdbook)
        .arg("build")
        .arg(root().join("docs"))
        .arg("--dest-dir")
        .arg(dir.path().join("book"))
        .output()
        .expect("run mdbook");
    let said = output_text(&out);
    assert!(out.status.success(), "`mdbook build docs` failed:\n{said}");
    assert!(!said.contains("WARN") && !said.contains("ERROR"), "`mdbook build docs` warned:\n{said}");
    dir
}

/// The guide builds, and every link in it, to another page or to an anchor, leads somewhere.
/// Offline: links out of the guide (https, mailto) are not followed.
#[test]
fn the_guide_builds_and_its_links_and_anchors_hold() {
    let (Some(mdbook), Some(linkchecker)) = (tool("mdbook"), tool("linkchecker")) else { return };
    let dir = build_guide(&mdbook);
    let config = dir.path().join("linkcheckerrc");
    std::fs::write(&config, "[filtering]\nignore=\n  ^https?:\n  ^mailto:\n[AnchorCheck]\n").expect("write config");
    let out = Command::new(linkchecker)
        .args(["--no-status", "--recursion-level=-1", "--config"])
        .arg(&config)
        .arg(dir.path().join("book/index.html"))
        .output()
        .expect("run linkchecker");
    assert!(
        out.status.success(),
        "linkchecker found broken links or anchors in the guide (fix the page named under each \"Parent URL\"):\n{}",
        output_text(&out)
    );
}

/// The `id` mdBook gives a heading: lowercase; letters, digits, `_` and `-` kept; whitespace
/// becomes `-`; the rest (backticks, punctuation) is dropped.
fn heading_id(heading: &str) -> String {
    let text: String = heading.replace(['`', '*'], "");
    text.trim()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c.to_ascii_lowercase()),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

/// The anchors of a page: one per heading outside code blocks.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            found.insert(heading_id(line.trim_start_matches('#')));
        }
    }
    found
}

/// Whether `target` (`docs/src/PAGE.md` or `docs/src/PAGE.md#ANCHOR`) names a page and a heading
/// of it; else why not.
fn section_problem(target: &str) -> Option<String> {
    let (file, anchor) = target.split_once('#').map_or((target, None), |(f, a)| (f, Some(a)));
    let Ok(text) = std::fs::read_to_string(root().join(file)) else { return Some(format!("{file} does not exist")) };
    match anchor {
        Some(a) if !anchors(&text).contains(a) => Some(format!("{file} has no heading whose anchor is #{a}")),
        _ => None,
    }
}

/// Every `docs/src/….md#anchor` in a text.
fn guide_references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("docs/src/") {
        let tail = &text[i..];
        let end = tail.find(|c: char| !(c.is_alphanumeric() || "/._-#".contains(c))).unwrap_or(tail.len());
        let reference = tail[..end].trim_end_matches('.');
        if reference.contains(".md") {
            found.push(reference.to_string());
        }
    }
    found
}

/// What the code tells users to read (hints, `guide:` lines, --help, templates, scripts) is a
/// page and a section of the guide that exist; nothing points to README sections that moved.
#[test]
fn every_guide_section_the_code_names_exists() {
    let mut files = files_under(&root().join("src"), "rs");
    files.extend(files_under(&root().join("templates"), "yaml"));
    files.extend(files_under(&root().join("scripts"), "sh"));
    files.push(root().join("src/config/repo.schema.json"));
    files.push(root().join("README.md"));
    let mut problems = Vec::new();
    let mut named = 0;
    for file in files {
        let rel = file.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        let text = read(&rel);
        for reference in guide_references(&text) {
            named += 1;
            problems.extend(section_problem(&reference).map(|p| format!("{rel} names {reference}: {p}")));
        }
        for stale in ["in the README", "the README's", "README: \""] {
            if text.contains(stale) && rel != "README.md" {
                problems.push(format!("{rel} points to a README section (`{stale}`): name the guide's page instead"));
            }
        }
    }
    assert!(named > 20, "only {named} references to the guide found: is the scan broken?");
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Links between the guide's pages (and from the README into the guide) lead to a page and a
/// heading that exist. linkchecker checks the built HTML too; this needs no tool.
#[test]
fn the_guides_own_links_lead_to_pages_and_headings_that_exist() {
    let mut sources = pages();
    sources.push(("README.md".into(), read("README.md")));
    let mut problems = Vec::new();
    for (rel, text) in &sources {
        let dir = Path::new(rel).parent().unwrap();
        let text = prose(text);
        for (i, _) in text.match_indices("](") {
            let tail = &text[i + 2..];
            let target = &tail[..tail.find(')').unwrap_or(0)];
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').map_or((target, None), |(f, a)| (f, Some(a)));
            let path = if file.is_empty() { rel.clone() } else { normalize(&dir.join(file)) };
            let full = anchor.map_or(path.clone(), |a| format!("{path}#{a}"));
            if let Some(p) = section_problem(&full) {
                problems.push(format!("{rel}: link ({target}): {p}"));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// A Markdown text without its code: fenced blocks and inline code spans left out.
fn prose(text: &str) -> String {
    let mut fenced = false;
    let mut kept = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            kept.push(line.split('`').step_by(2).collect::<String>());
        }
    }
    kept.join("\n")
}

/// `a/b/../c` -> `a/c`, as a string with `/`.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::CurDir => {}
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

/// Output the guide quotes under `<!-- snapshot: PATH -->` is lines of that insta snapshot,
/// which a test pins: it cannot drift from what repoctl prints.
#[test]
fn output_the_guide_quotes_is_what_the_snapshot_tests_pin() {
    let mut problems = Vec::new();
    let mut quoted = 0;
    for (rel, text) in pages() {
        for (_, body, before) in code_blocks(&text) {
            let Some(snap) = before.strip_prefix("<!-- snapshot: ").and_then(|s| s.strip_suffix(" -->")) else {
                continue;
            };
            quoted += 1;
            let pinned = read(snap);
            let pinned: BTreeSet<&str> = pinned.split_once("\n---\n").map_or("", |(_, b)| b).lines().collect();
            for line in body.lines().filter(|l| !pinned.contains(l)) {
                problems.push(format!("{rel}: this line is not in {snap}:\n  {line}"));
            }
        }
    }
    assert!(quoted >= 5, "only {quoted} quoted snapshots found");
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The top of the README: the two commands that work on a fresh machine, first, exactly; and
/// the second is what CI runs.
#[test]
fn the_readme_starts_with_the_demo_and_the_test_command() {
    let readme = read("README.md");
    let (_, first, _) = code_blocks(&readme).into_iter().next().expect("a code block");
    assert_eq!(
        first,
        "bash scripts/demo.sh                       # build the demo repository (offline) into ./demo-repo\n\
         bash scripts/testbed.sh && cargo test --locked   # run the tests against real Docker, S3 and pacman\n"
    );
    let ci = read(".ci/run");
    assert!(
        ci.contains("\nbash scripts/testbed.sh\ncargo test --locked\n"),
        ".ci/run no longer runs the README's test command:\n{ci}"
    );
}

/// `repoctl …` invocations in the guide's and the README's shell blocks and inline code: the
/// subcommand and each `--option` after it.
fn invocations() -> Vec<(String, String, Vec<String>)> {
    let mut sources = pages();
    sources.push(("README.md".into(), read("README.md")));
    let mut found = Vec::new();
    for (rel, text) in sources {
        let mut snippets: Vec<String> = code_blocks(&text)
            .into_iter()
            .filter(|(info, ..)| info == "sh")
            .flat_map(|(_, b, _)| lines_of(&b))
            .collect();
        // Inline code that is a command line, not prose quoted from a message.
        snippets.extend(text.split('`').skip(1).step_by(2).filter(|s| s.starts_with("repoctl ")).map(str::to_string));
        for snippet in snippets {
            for call in snippet.split("repoctl ").skip(1) {
                let call = call.split(['#', ';', '&', ')']).next().unwrap_or("");
                let mut words = call.split(|c: char| c.is_whitespace() || c == '|').filter(|w| !w.is_empty());
                let Some(sub) = words.next().filter(|s| s.chars().all(|c| c.is_ascii_lowercase())) else { continue };
                let options = words.filter_map(option_name).collect();
                found.push((rel.clone(), sub.to_string(), options));
            }
        }
    }
    found
}

/// A shell block's lines without their comments.
fn lines_of(block: &str) -> Vec<String> {
    block.lines().filter(|l| !l.starts_with('#')).map(|l| l.split(" #").next().unwrap_or("").to_string()).collect()
}

/// `--json`, `[--out`, `--shards=N` -> the option's name.
fn option_name(word: &str) -> Option<String> {
    let word = word.trim_start_matches(['[', '(']);
    let name: String = word.strip_prefix("--")?.chars().take_while(|c| c.is_ascii_lowercase() || *c == '-').collect();
    (!name.is_empty()).then(|| format!("--{name}"))
}

/// Every `repoctl SUBCOMMAND --option` the guide or the README shows is one `--help` lists.
#[test]
fn every_command_and_option_the_guide_shows_exists() {
    let help = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_repoctl")).args(args).output().expect("run repoctl");
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let top = help(&["--help"]).expect("repoctl --help");
    let mut helps: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut problems = BTreeSet::new();
    let calls = invocations();
    assert!(calls.len() > 50, "only {} repoctl invocations found: is the scan broken?", calls.len());
    for (rel, sub, options) in calls {
        let text = helps.entry(sub.clone()).or_insert_with(|| help(&[sub.as_str(), "--help"]));
        let Some(text) = text.as_deref() else {
            problems.insert(format!("{rel}: `repoctl {sub}` is not a command"));
            continue;
        };
        for option in options.iter().filter(|o| !mentions(text, o) && !mentions(&top, o)) {
            problems.insert(format!("{rel}: `repoctl {sub} {option}`: {sub} has no such option"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.into_iter().collect::<Vec<_>>().join("\n"));
}

/// Whether help text lists `option` (followed by a space, `=`, `,` or the end of its line).
fn mentions(help: &str, option: &str) -> bool {
    help.match_indices(option)
        .any(|(i, _)| help[i + option.len()..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-')))
}

/// Every failure kind a build can end with (`FailureKind::label` in src/build/mod.rs) has a
/// row in the troubleshooting chapter's table.
#[test]
fn troubleshooting_explains_every_failure_kind() {
    let source = read("src/build/mod.rs");
    let body = source.split("pub fn label(self)").nth(1).expect("FailureKind::label");
    let body = &body[..body.find("\n    }\n").expect("end of label")];
    let labels: Vec<&str> = body.split("=> \"").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
    assert!(labels.len() >= 10, "{labels:?}");
    let page = read("docs/src/troubleshooting.md");
    let missing: Vec<&&str> = labels.iter().filter(|l| !page.contains(&format!("| `{l}` |"))).collect();
    assert!(missing.is_empty(), "docs/src/troubleshooting.md has no row for the failure kind(s) {missing:?}");
}

/// Every environment variable repoctl reads (src/env.rs) is in the environment chapter.
#[test]
fn the_environment_chapter_names_every_variable() {
    let page = read("docs/src/reference/environment.md");
    let source = read("src/env.rs");
    let names: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("pub const ")?.split_once("= \"")?.1.strip_suffix("\";"))
        .filter(|v| !v.contains("://"))
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    let missing: Vec<&&str> = names.iter().filter(|n| !page.contains(&format!("`{n}`"))).collect();
    assert!(missing.is_empty(), "docs/src/reference/environment.md does not name {missing:?}");
}

fn schema() -> Value {
    serde_json::from_str(&read("src/config/repo.schema.json")).expect("the schema is JSON")
}

/// Every key of the schema, with its node and whether its mapping requires it, in the schema's
/// order: `name`, `s3.bucket`, `packages[].nocheck`, ...
fn schema_keys(schema: &Value) -> Vec<(String, Value, bool)> {
    let mut keys = Vec::new();
    collect_keys(schema, schema, "", &mut keys);
    keys
}

fn collect_keys(schema: &Value, node: &Value, prefix: &str, keys: &mut Vec<(String, Value, bool)>) {
    let required: Vec<&str> = node["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for (name, child) in node["properties"].as_object().into_iter().flatten() {
        let key = format!("{prefix}{name}");
        keys.push((key.clone(), resolve(schema, child), required.contains(&name.as_str())));
        collect_keys(schema, child, &format!("{key}."), keys);
        let forms = child["items"]["oneOf"].as_array().cloned().unwrap_or_default();
        for form in forms.iter().filter(|f| f.get("properties").is_some()) {
            collect_keys(schema, form, &format!("{key}[]."), keys);
        }
    }
}

/// A node with its `$ref` (`#/$defs/NAME`) replaced by the definition.
fn resolve(schema: &Value, node: &Value) -> Value {
    match node["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => schema.pointer(pointer).cloned().expect("a $ref the schema defines"),
        None => node.clone(),
    }
}

/// What a value of `node` may be, in words.
fn value_text(schema: &Value, node: &Value) -> String {
    let code = |v: &Value| format!("`{}`", v.as_str().map_or_else(|| v.to_string(), str::to_string));
    if let Some(values) = node["enum"].as_array() {
        return format!("one of {}", values.iter().map(code).collect::<Vec<_>>().join(", "));
    }
    if let Some(forms) = node["oneOf"].as_array() {
        let words: Vec<String> = forms.iter().map(|f| value_text(schema, &resolve(schema, f))).collect();
        return words.join(", or ");
    }
    let mut text = match node["type"].as_str().unwrap_or("any") {
        "array" => format!("list of {}", value_text(schema, &resolve(schema, &node["items"]))),
        "object" => "mapping".to_string(),
        "boolean" => "true or false".to_string(),
        other => other.to_string(),
    };
    if let Some(pattern) = node["pattern"].as_str() {
        text.push_str(&format!(" matching `{pattern}`"));
    }
    match (node["minimum"].as_f64(), node["maximum"].as_f64()) {
        (Some(min), Some(max)) => text.push_str(&format!(", {min} to {max}")),
        (Some(min), None) => text.push_str(&format!(", at least {min}")),
        _ => {}
    }
    text
}

/// Schema text as Markdown shows it: `<` and `>` outside code spans are text, not HTML tags.
fn as_text(description: &str) -> String {
    let parts = description.split('`').enumerate();
    let parts =
        parts.map(|(i, p)| if i % 2 == 0 { p.replace('<', "&lt;").replace('>', "&gt;") } else { p.to_string() });
    parts.collect::<Vec<_>>().join("`")
}

/// docs/src/reference/keys.md, made from the schema.
fn keys_page(schema: &Value) -> String {
    let mut page = String::from(
        "# Every key, from the schema\n\n\
         <!-- Generated from src/config/repo.schema.json by tests/guide.rs: do not edit by hand. \
         `REPOCTL_BLESS_GUIDE=1 cargo test --test guide` writes it again. -->\n\n\
         Every key repo.yaml accepts, as the JSON Schema that `repoctl schema` prints says (a unit test keeps the \
         schema equal to what repoctl's loader accepts). [repo.yaml](repo-yaml.md) explains them with an annotated \
         example. `packages[]` is an entry of the `packages` list: a package name, or a mapping with `name` and the \
         keys below it.\n\n\
         | key | value | required | what it is |\n| --- | --- | --- | --- |\n",
    );
    for (key, node, required) in schema_keys(schema) {
        let mut what = node["description"].as_str().unwrap_or("").to_string();
        if let Some(example) = node["examples"].as_array().and_then(|e| e.first()) {
            let example = example.as_str().map_or_else(|| example.to_string(), str::to_string);
            what.push_str(&format!(" Example: `{example}`."));
        }
        let cells = [
            format!("`{key}`"),
            value_text(schema, &node),
            (if required { "yes" } else { "no" }).into(),
            as_text(&what),
        ];
        let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|").replace('\n', " ")).collect();
        page.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    page
}

/// The key list is what the schema says, every key of it: generated, and compared here.
#[test]
fn the_key_list_is_generated_from_the_schema() {
    let expected = keys_page(&schema());
    if std::env::var_os("REPOCTL_BLESS_GUIDE").is_some() {
        std::fs::write(root().join(KEYS_PAGE), &expected).expect("write the key list");
    }
    let committed = read(KEYS_PAGE);
    assert!(
        committed == expected,
        "{KEYS_PAGE} is not what src/config/repo.schema.json says: run `REPOCTL_BLESS_GUIDE=1 cargo test --test \
         guide` and commit it"
    );
}

/// The annotated reference names every key of the schema too (in its example or its text).
#[test]
fn the_repo_yaml_reference_names_every_key_of_the_schema() {
    let page = read("docs/src/reference/repo-yaml.md");
    let words: BTreeSet<&str> = page.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
    let missing: Vec<String> = schema_keys(&schema())
        .into_iter()
        .map(|(key, ..)| key)
        .filter(|key| !words.contains(key.rsplit(['.', ']']).next().unwrap()))
        .collect();
    assert!(missing.is_empty(), "docs/src/reference/repo-yaml.md does not mention {missing:?}");
}
