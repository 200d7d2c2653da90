//! A letter's body, from the sender's markdown to HTML that is safe to put in the page (issue 17
//! item 4): pulldown-cmark renders it, and ammonia keeps only an allowlist of tags and
//! attributes (dependencies-and-limits.md §3). HTML the sender wrote in the body is shown as
//! text, not interpreted; links may go only to `https`, `http` and `mailto` and open with
//! `rel="noopener noreferrer"`; images are dropped (no remote images: the page's
//! Content-Security-Policy would block them anyway); no scripts, styles or event handlers.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The tags a rendered body may keep.
const TAGS: &[&str] = &[
    "p",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "del",
    "blockquote",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "hr",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.tags(TAGS.iter().copied().collect::<HashSet<_>>())
        .tag_attributes(
            [
                ("a", ["href"].into_iter().collect()),
                ("ol", ["start"].into_iter().collect()),
            ]
            .into_iter()
            .collect(),
        )
        .url_schemes(["https", "http", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .url_relative(ammonia::UrlRelative::Deny)
        .strip_comments(true);
    b
});

/// The body `markdown` as sanitised HTML. Raw HTML in the markdown comes out as escaped text;
/// images become their alt text.
pub fn body_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        // HTML the sender wrote is text to the reader, never markup.
        Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
        // An image's tags go; its alt text, between them, stays as text.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    SANITIZER.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::body_html;

    #[test]
    fn markdown_becomes_html() {
        assert_eq!(
            body_html("Du har fått **innvilget** søknaden.\n\n- én\n- to"),
            "<p>Du har fått <strong>innvilget</strong> søknaden.</p>\n<ul>\n<li>én</li>\n<li>to</li>\n</ul>\n"
        );
    }

    #[test]
    fn html_in_the_body_is_shown_as_text() {
        let out = body_html(
            "Hei <script>alert(1)</script> og <b>fet</b>\n\n<div onclick=\"x()\">blokk</div>",
        );
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<b>"), "{out}");
        assert!(!out.contains("<div"), "{out}");
        assert!(
            out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{out}"
        );
        assert!(out.contains("&lt;b&gt;fet&lt;/b&gt;"), "{out}");
    }

    #[test]
    fn only_safe_links_survive() {
        let out = body_html(
            "[trygg](https://www.nav.no/skjema) [mail](mailto:post@ks.no) [farlig](javascript:alert(1)) [data](data:text/html,x) [relativ](/inbox)",
        );
        assert!(
            out.contains(
                r#"<a href="https://www.nav.no/skjema" rel="noopener noreferrer">trygg</a>"#
            ),
            "{out}"
        );
        assert!(out.contains(r#"href="mailto:post@ks.no""#), "{out}");
        assert!(!out.contains("javascript:"), "{out}");
        assert!(!out.contains("data:"), "{out}");
        assert!(!out.contains(r#"href="/inbox""#), "{out}");
        assert!(out.contains("farlig"), "the link text stays: {out}");
    }

    #[test]
    fn images_are_not_loaded() {
        let out = body_html("Se ![kart over tomta](https://tracker.example/pixel.png) her");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.contains("tracker.example"), "{out}");
        assert!(out.contains("kart over tomta"), "the alt text stays: {out}");
    }
}
