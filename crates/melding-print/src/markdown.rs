//! Markdown (Altinn's `messageBody`) to typst markup, with no way for a letter's text to become
//! typst code.
//!
//! The rule that keeps letters from injecting code: **every piece of text taken from the letter
//! is written as a typst string literal** (`#"…"`, see [`string_literal`]), never as bare markup.
//! Inside a string literal typst knows only the escapes `\\`, `\"`, `\n`, `\r`, `\t` and
//! `\u{…}`, so escaping a backslash, a quote and the control characters is the whole job; `#`,
//! `$`, `*`, `[`, `]`, `<`, `@`, `//` and the rest stay plain characters. The markup around the
//! literals (`#emph[`, `#list(`, …) is written only by this module.
//!
//! pulldown-cmark parses the markdown (CommonMark plus tables and strikethrough, as Altinn's own
//! renderer does); this module only maps its events to typst elements. Images cannot be fetched
//! for print, so their alt text is printed in italics; raw HTML is printed as the text it is.

use pulldown_cmark::{CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Quotes `text` as a typst string literal, e.g. `a"b\` becomes `"a\"b\\"`.
///
/// Control characters become `\u{…}` escapes so the literal is always one line. This is
/// hand-written because typst has no public "quote this" function; the escape rules are those
/// of typst's lexer (`typst-syntax`, `lexer.rs`, strings).
pub(crate) fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text from the letter as typst markup: a string literal embedded with `#`.
pub(crate) fn text_markup(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!("#{}", string_literal(text))
}

/// The largest start number of an ordered list passed on to typst (its integers are `i64`; a
/// letter has no use for more).
const MAX_LIST_START: u64 = 1_000_000;

/// Converts a markdown body to typst markup (to be placed in markup mode).
pub(crate) fn body_markup(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut out = String::with_capacity(markdown.len() * 2);
    // What to write when the element opened by the matching `Start` ends.
    let mut closers: Vec<String> = Vec::new();
    // The text of a code block while it is being read: (language, text).
    let mut code_block: Option<(String, String)> = None;

    for event in Parser::new_ext(markdown, options) {
        if let Some((_, code)) = code_block.as_mut() {
            match event {
                Event::Text(text) => {
                    code.push_str(&text);
                    continue;
                }
                Event::End(TagEnd::CodeBlock) => {
                    let (lang, code) = code_block.take().unwrap_or_default();
                    let code = code.strip_suffix('\n').unwrap_or(&code);
                    out.push_str("\n#raw(block: true, ");
                    if !lang.is_empty() {
                        out.push_str(&format!("lang: {}, ", string_literal(&lang)));
                    }
                    out.push_str(&string_literal(code));
                    out.push_str(")\n\n");
                    closers.pop();
                    continue;
                }
                _ => {}
            }
        }
        match event {
            Event::Start(tag) => {
                let (open, close) = open_close(&tag);
                if let Tag::CodeBlock(kind) = &tag {
                    let lang = match kind {
                        CodeBlockKind::Fenced(info) => {
                            info.split_whitespace().next().unwrap_or("").to_owned()
                        }
                        CodeBlockKind::Indented => String::new(),
                    };
                    code_block = Some((lang, String::new()));
                }
                out.push_str(&open);
                closers.push(close);
            }
            Event::End(_) => {
                if let Some(close) = closers.pop() {
                    out.push_str(&close);
                }
            }
            Event::Text(text)
            | Event::Html(text)
            | Event::InlineHtml(text)
            | Event::InlineMath(text)
            | Event::DisplayMath(text)
            | Event::FootnoteReference(text) => out.push_str(&text_markup(&text)),
            Event::Code(code) => out.push_str(&format!("#raw({})", string_literal(&code))),
            Event::SoftBreak => out.push_str("#\" \""),
            Event::HardBreak => out.push_str("#linebreak()"),
            Event::Rule => out.push_str("\n#line(length: 100%, stroke: 0.5pt)\n\n"),
            Event::TaskListMarker(done) => {
                out.push_str(&text_markup(if done { "☑ " } else { "☐ " }))
            }
        }
    }
    // A well-formed parse closes everything; this only guards against a parser surprise leaving
    // an open bracket that would swallow the rest of the letter.
    while let Some(close) = closers.pop() {
        out.push_str(&close);
    }
    out
}

/// The typst markup that opens and closes one markdown element.
fn open_close(tag: &Tag<'_>) -> (String, String) {
    let pair = |open: &str, close: &str| (open.to_owned(), close.to_owned());
    match tag {
        Tag::Paragraph => pair("", "\n\n"),
        Tag::Heading { level, .. } => (
            format!("\n#heading(level: {}, outlined: false)[", *level as usize),
            "]\n\n".to_owned(),
        ),
        Tag::BlockQuote(_) => pair("\n#quote(block: true)[", "]\n\n"),
        Tag::CodeBlock(_) => pair("", ""),
        Tag::HtmlBlock => pair("", "\n\n"),
        Tag::List(Some(start)) => (
            format!("\n#enum(start: {}, ", (*start).min(MAX_LIST_START)),
            ")\n\n".to_owned(),
        ),
        Tag::List(None) => pair("\n#list(", ")\n\n"),
        Tag::Item => pair("[", "],"),
        Tag::Table(alignments) => (
            format!(
                "\n#table(columns: {}, align: left, inset: 4pt, stroke: 0.5pt, ",
                alignments.len().max(1)
            ),
            ")\n\n".to_owned(),
        ),
        Tag::TableHead => pair("table.header(", "),"),
        Tag::TableRow => pair("", ""),
        Tag::TableCell => pair("[", "],"),
        Tag::Emphasis => pair("#emph[", "]"),
        Tag::Strong => pair("#strong[", "]"),
        Tag::Strikethrough => pair("#strike[", "]"),
        Tag::Link {
            link_type,
            dest_url,
            ..
        } => {
            let target = match link_type {
                LinkType::Email => format!("mailto:{dest_url}"),
                _ => dest_url.to_string(),
            };
            if target.is_empty() {
                return pair("", "");
            }
            // Paper cannot be clicked: a link whose text is not its address gets the address
            // printed after it.
            let shows_address = matches!(link_type, LinkType::Autolink | LinkType::Email);
            let close = if shows_address {
                "]".to_owned()
            } else {
                format!("]{}", text_markup(&format!(" ({dest_url})")))
            };
            (format!("#link({})[", string_literal(&target)), close)
        }
        Tag::Image { .. } => pair("#emph[", "]"),
        // Not enabled in the parser options; their text still prints.
        _ => pair("", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_escape_backslash_quote_and_controls_only() {
        assert_eq!(string_literal(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(string_literal("#set $x$ ]*"), "\"#set $x$ ]*\"");
        assert_eq!(string_literal("æ\nø\tå\u{7}"), "\"æ\\nø\\tå\\u{7}\"");
    }

    #[test]
    fn every_text_of_the_body_is_a_string_literal() {
        let markup = body_markup("Hei *Ola* `#set` [lenke](https://x.no)\n\n- én\n- to");
        assert_eq!(
            markup,
            "#\"Hei \"#emph[#\"Ola\"]#\" \"#raw(\"#set\")#\" \"\
             #link(\"https://x.no\")[#\"lenke\"]#\" (https://x.no)\"\n\n\
             \n#list([#\"én\"],[#\"to\"],)\n\n"
        );
    }

    #[test]
    fn fenced_code_keeps_its_text_and_language() {
        let markup = body_markup("```rust\nlet a = \"]\";\n```\n");
        assert_eq!(
            markup,
            "\n#raw(block: true, lang: \"rust\", \"let a = \\\"]\\\";\")\n\n"
        );
    }
}
