//! The text rules of a letter (reference §5.3): which fields must be plain text and how long each
//! may be. The body is markdown, and raw HTML in it is accepted as literal text, as the reference
//! accepts it since early 2026 (issue 11 item 8); whoever shows a body escapes it.

use pulldown_cmark::{Event, Parser, Tag};

/// The longest title, in characters (1037).
pub const TITLE_MAX: usize = 255;
/// The longest summary, in characters (1042).
pub const SUMMARY_MAX: usize = 255;
/// The longest body, in characters (1022).
pub const BODY_MAX: usize = 30_000;
/// The longest `messageSender`, in characters.
pub const MESSAGE_SENDER_MAX: usize = 255;
/// The longest `sendersReference`, in characters.
pub const SENDERS_REFERENCE_MAX: usize = 4096;
/// The most entries a `propertyList` may have.
pub const PROPERTY_LIST_MAX: usize = 10;
/// The longest `propertyList` key, in characters.
pub const PROPERTY_KEY_MAX: usize = 50;
/// The longest `propertyList` value, in characters.
pub const PROPERTY_VALUE_MAX: usize = 300;
/// The most `externalReferences` a letter may have.
pub const EXTERNAL_REFERENCES_MAX: usize = 10;
/// The longest reply option URL, in characters (1035).
pub const REPLY_OPTION_URL_MAX: usize = 255;

/// Languages a letter may be written in.
pub const LANGUAGES: [&str; 3] = ["nb", "nn", "en"];

/// Length in characters, as the reference counts them (UTF-16 code units in .NET; characters
/// here, which agree for Norwegian text).
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// True when `text` renders as itself: no HTML, headings, links, images, quotes or code blocks.
/// Emphasis markers and list numbers are tolerated, as Altinn tolerates them
/// (`This *is not* markdown`, `123. This is …`).
pub fn is_plain_text(text: &str) -> bool {
    let cleaned: String = text.chars().filter(|c| *c != '`' && *c != '\\').collect();
    Parser::new(&cleaned).all(|event| match event {
        Event::Html(_) | Event::InlineHtml(_) | Event::Rule => false,
        Event::Start(tag) => !matches!(
            tag,
            Tag::Heading { .. }
                | Tag::Link { .. }
                | Tag::Image { .. }
                | Tag::BlockQuote(_)
                | Tag::CodeBlock(_)
                | Tag::HtmlBlock
                | Tag::Table(_)
        ),
        _ => true,
    })
}

/// `nb`, `nn` or `en`, any case.
pub fn is_supported_language(lang: &str) -> bool {
    LANGUAGES.iter().any(|l| l.eq_ignore_ascii_case(lang))
}

/// An absolute `https://` URL of at most 255 characters with a host.
pub fn is_reply_option_url(url: &str) -> bool {
    if char_len(url) > REPLY_OPTION_URL_MAX {
        return false;
    }
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_accepts_what_altinn_accepts() {
        for ok in [
            "Error #404 not found.",
            "123. This is a numbered sentence",
            "This *is not* markdown and _should_ be plain",
            "`inline code`",
            "TEST\\'S AS",
            "Vedtak om byggesøknad – gnr. 12 bnr. 34",
            "",
        ] {
            assert!(is_plain_text(ok), "{ok:?} should be plain text");
        }
    }

    #[test]
    fn plain_text_refuses_markup() {
        for bad in [
            "# heading",
            "<h1>x</h1>",
            "Hello <b>there</b>",
            "[link](https://example.com)",
            "![img](https://example.com/a.png)",
            "> quoted",
        ] {
            assert!(!is_plain_text(bad), "{bad:?} should not be plain text");
        }
    }

    #[test]
    fn languages() {
        assert!(is_supported_language("nb"));
        assert!(is_supported_language("NN"));
        assert!(is_supported_language("en"));
        assert!(!is_supported_language("no"));
        assert!(!is_supported_language("se"));
    }

    #[test]
    fn reply_option_urls() {
        assert!(is_reply_option_url("https://www.example.no/svar?id=1"));
        assert!(!is_reply_option_url("http://www.example.no/"));
        assert!(!is_reply_option_url("https://"));
        assert!(!is_reply_option_url("www.example.no"));
        assert!(!is_reply_option_url("https://exa mple.no"));
        let long = format!("https://example.no/{}", "a".repeat(250));
        assert!(!is_reply_option_url(&long));
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert_eq!(char_len("æøå"), 3);
    }
}
