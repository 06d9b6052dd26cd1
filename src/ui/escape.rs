//! Untrusted text made safe where it is shown: one function per medium. Everything an AUR
//! maintainer writes (versions, file names, source entries, commit authors and subjects,
//! diffs, dependency strings, error messages that quote them) goes through the function of
//! the medium it is rendered in, and every renderer uses these (issue 25, item 3):
//!
//! - [`markdown_text`] and [`markdown_cell`]: inline Markdown (GitHub Flavored Markdown) in
//!   a paragraph or a table cell: pull-request bodies, job summaries, comments;
//! - [`markdown_code_span`] and [`markdown_code_block`]: text shown as code in Markdown;
//! - [`html`]: HTML content and quoted attribute values (the repository page);
//! - [`terminal`]: text printed on a terminal or in a CI log;
//! - [`json`]: JSON printed on a terminal (`--json`), still the same JSON.
//!
//! In every medium, control characters (C0 but tab and newline, DEL, C1) and the invisible
//! format characters that reorder or hide text (bidi embeddings, overrides and isolates
//! U+202A-U+202E and U+2066-U+2069, marks U+200E/U+200F/U+061C, zero-width U+200B-U+200D,
//! U+2060-U+2064, U+FEFF) are shown as `\u{..}`: a reviewer sees that they are there, and none
//! of them can erase, move or reorder what was printed around it ("Trojan Source",
//! CVE-2021-42574).

/// Whether `c` is drawn as `\u{..}` rather than printed (the module's list).
fn invisible(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// `\u{1b}` for ESC: how an invisible character is shown.
fn shown(c: char) -> String {
    format!("\\u{{{:x}}}", c as u32)
}

/// Text for a terminal or a CI log: newlines and tabs stay, every other control character and
/// invisible format character is shown as `\u{..}` (so an ANSI `ESC [ 2 K` reads `\u{1b}[2K`
/// and erases nothing, a carriage return cannot send the cursor back over a flag).
pub fn terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if invisible(c) { out.push_str(&shown(c)) } else { out.push(c) }
    }
    out
}

/// JSON text (a document serde_json accepted) for a terminal, still the same JSON: every
/// invisible character is written as a `\uXXXX` escape, which a JSON reader decodes to the
/// same character. JSON (RFC 8259, 7) lets C1 controls and the bidi and zero-width characters
/// stand raw inside strings, and only there can they be (its structure is ASCII); raw C0
/// controls cannot be in a string at all, so a carriage return is whitespace between tokens,
/// and is dropped.
pub fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' => {}
            c if invisible(c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Inline Markdown text (in a table cell, or after other text on a line): what it says is
/// shown literally and nothing in it is markup. The characters that start inline markup in
/// GitHub Flavored Markdown are backslash-escaped (CommonMark 0.31, 2.4: any ASCII punctuation
/// may be): `\` and `` ` `` (code spans), `*`, `_` and `~` (emphasis, strikethrough), `[`, `]`
/// and `!` (links, images), `|` (a table cell's end; GFM reads `\|` inside code spans too) and
/// `$` (GitHub's math). `<`, `>` and `&` become entities, so no HTML (a `<!--` that would hide
/// the rest of a pull-request body, a `<details>`), autolink or entity can start. A line break
/// becomes a space (a table row is one line); invisible characters are shown as `\u{..}`.
/// Other punctuation is left as it is, so a path or a version reads the same in the raw text.
/// Not neutralised: GitHub's `@name` mentions and `#123` references, and bare `https://` and
/// `www.` links (GFM's extended autolinks), which show the text they are made of.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '!' | '|' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if invisible(c) => out.push_str(&markdown_text(&shown(c))),
            c => out.push(c),
        }
    }
    out
}

/// [`markdown_text`] for a table cell, `-` for an empty one.
pub fn markdown_cell(text: &str) -> String {
    if text.is_empty() { "-".to_string() } else { markdown_text(text) }
}

/// A Markdown code span of `text` on one line: a run of backticks longer than any in the
/// text, `|` escaped for a GFM table cell, line breaks as spaces and invisible characters as
/// `\u{..}`. Padded with a space on each side where the text begins or ends with a backtick
/// or a space (CommonMark 6.1 strips one of each when both ends have one).
pub fn markdown_code_span(text: &str) -> String {
    let body: String = terminal(text).replace(['\n', '\t'], " ").replace('|', "\\|");
    let ticks = "`".repeat(longest_run(&body, '`') + 1);
    let pad = body.starts_with(['`', ' ']) || body.ends_with(['`', ' ']);
    let pad = if pad { " " } else { "" };
    format!("{ticks}{pad}{body}{pad}{ticks}")
}

/// A fenced code block of `text` with the info string `info` (`diff`): a fence of backticks
/// longer than any run in the text, so no line of it can close the block early (CommonMark
/// 4.5: a closing fence is at least as long as the opening one); invisible characters shown as
/// `\u{..}`. Ends with a newline.
pub fn markdown_code_block(info: &str, text: &str) -> String {
    let body = terminal(text.trim_end_matches('\n'));
    let fence = "`".repeat(longest_run(&body, '`').max(2) + 1);
    format!("{fence}{info}\n{body}\n{fence}\n")
}

fn longest_run(text: &str, of: char) -> usize {
    text.split(|c| c != of).map(str::len).max().unwrap_or(0)
}

/// Text for HTML content and double- or single-quoted attribute values: the five characters
/// the HTML spec gives meaning there (&, <, >, ", ') as references, and invisible characters
/// shown as `\u{..}`. Written by hand: five replacements, and repoctl renders no other HTML
/// that a templating crate would serve.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if invisible(c) => out.push_str(&shown(c)),
            c => out.push(c),
        }
    }
    out
}

/// A line of a build's output for a CI log: escape sequences (colours, cursor moves, OSC
/// titles) and other control characters are dropped, not shown (a build's colours are noise,
/// not a finding), and a line that would start a GitHub workflow command (`::`) is defused, so
/// a PKGBUILD cannot add annotations, masks or environment changes to the job.
pub fn log_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\t' => out.push(c),
            c if c.is_control() => {}
            c if invisible(c) => out.push_str(&shown(c)),
            c => out.push(c),
        }
    }
    let trimmed = out.trim_start();
    if trimmed.starts_with("::") {
        let indent = out.len() - trimmed.len();
        out.replace_range(indent..indent + 2, ": :");
    }
    out
}

/// Skips the rest of an escape sequence whose ESC was just read: CSI (`ESC [` params, final
/// byte), OSC (`ESC ]` up to BEL or `ESC \`), or one character after ESC.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
        Some(']') => {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                    break;
                }
            }
        }
        _ => {
            chars.next();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<!--|`x`[x](javascript:alert(1))<details>-->\u{1b}[2K\u{1b}[1A\r\u{202e}\u{85}*_@";

    #[test]
    fn each_medium_shows_the_hostile_text_and_runs_none_of_it() {
        assert_eq!(
            markdown_text(HOSTILE),
            "&lt;\\!--\\|\\`x\\`\\[x\\](javascript:alert(1))&lt;details&gt;--&gt;\\\\u{1b}\\[2K\\\\u{1b}\\[1A \\\\u{202e}\\\\u{85}\\*\\_@"
        );
        assert_eq!(markdown_cell(""), "-");
        assert_eq!(markdown_code_span("a``b|c\nd"), "```a``b\\|c d```");
        assert_eq!(markdown_code_span("`x"), "`` `x ``");
        assert_eq!(markdown_code_block("diff", "+```\n-x\n"), "````diff\n+```\n-x\n````\n");
        assert_eq!(
            terminal("ok\u{1b}[2K\u{1b}[1A\r\u{7}\u{9b}\u{2066}\tend\n"),
            "ok\\u{1b}[2K\\u{1b}[1A\\u{d}\\u{7}\\u{9b}\\u{2066}\tend\n"
        );
        assert_eq!(html("<a href='x'>&\"\u{202e}"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\\u{202e}");
    }

    /// Red-team finding: `provenance --json` printed C1 controls and bidi characters raw,
    /// which JSON allows inside strings. They come out as `\uXXXX`: the same JSON, nothing raw.
    #[test]
    fn json_keeps_its_meaning_and_shows_no_invisible_character() {
        let raw = "{\r\n  \"file\": \"a\u{9b}2K\u{202e}b\u{feff}\",\n  \"n\": \"\\u001b\\\\\"}";
        let value: serde_json::Value = serde_json::from_str(raw).unwrap();
        let shown = json(raw);
        assert_eq!(shown, "{\n  \"file\": \"a\\u009b2K\\u202eb\\ufeff\",\n  \"n\": \"\\u001b\\\\\"}");
        assert!(!shown.chars().any(|c| invisible(c) && c != '\n'), "{shown:?}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&shown).unwrap(), value);
    }

    #[test]
    fn build_output_cannot_drive_the_terminal_or_the_ci() {
        assert_eq!(log_line("\u{1b}[1;31merror\u{1b}[0m: x"), "error: x");
        assert_eq!(log_line("\u{1b}]0;title\u{7}text"), "text");
        assert_eq!(log_line("::add-mask::secret"), ": :add-mask::secret");
        assert_eq!(log_line("  ::error file=x::boom"), "  : :error file=x::boom");
        assert_eq!(log_line("std::vector<int>\r"), "std::vector<int>");
        assert_eq!(log_line("\u{1b}[2K::set-env name=A::1"), ": :set-env name=A::1");
        assert_eq!(log_line("a\u{202e}b"), "a\\u{202e}b");
    }
}
