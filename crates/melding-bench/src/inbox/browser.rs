//! The inbox benchmark's browser: a cookie jar and a connection of its own, logged in with the
//! development login, and what it reads from the inbox's HTML (the CSRF field, the pager's
//! "next" link, the letters listed).

use anyhow::{Context, ensure};

use super::{ORG, ORG_URN};

/// A browser: its own cookie jar and connection pool, logged in with the development login.
#[derive(Clone)]
pub(super) struct Browser {
    client: reqwest::Client,
    root: String,
}

impl Browser {
    /// Logs in as `person` the way a browser does: the login page sets the login form's CSRF
    /// cookie, the form answers 303 with the session cookie.
    pub(super) async fn log_in(root: &str, person: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .http1_only()
            .build()?;
        let b = Self {
            client,
            root: root.to_owned(),
        };
        let (status, page) = b.get("/inbox/login").await?;
        ensure!(status == 200, "GET /inbox/login answered {status}");
        let csrf = hidden(&page, "csrf").context("no csrf field on the login page")?;
        let r = b
            .client
            .post(format!("{root}/inbox/login/demo"))
            .form(&[("csrf", csrf.as_str()), ("national_id", person)])
            .send()
            .await?;
        ensure!(
            r.status() == reqwest::StatusCode::SEE_OTHER,
            "the development login answered {} (is the server running with --demo?)",
            r.status()
        );
        let (status, page) = b.get("/inbox").await?;
        ensure!(
            status == 200 && page.contains("class=\"filters\""),
            "not logged in after the development login ({status})"
        );
        Ok(b)
    }

    /// Switches the session to reading the organisation's post (the act-for form).
    pub(super) async fn act_for_org(&self) -> anyhow::Result<()> {
        let (_, page) = self.get("/inbox").await?;
        let csrf = hidden(&page, "csrf").context("no csrf field on the inbox page")?;
        let party = format!("{ORG_URN}{ORG}");
        let r = self
            .client
            .post(format!("{}/inbox/act-for", self.root))
            .form(&[("csrf", csrf.as_str()), ("party", party.as_str())])
            .send()
            .await?;
        ensure!(
            r.status() == reqwest::StatusCode::SEE_OTHER,
            "act-for answered {}",
            r.status()
        );
        Ok(())
    }

    /// GETs `path` and reads the whole body.
    pub(super) async fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let r = self
            .client
            .get(format!("{}{path}", self.root))
            .send()
            .await?;
        let status = r.status().as_u16();
        Ok((status, r.text().await?))
    }
}

/// The value of the first hidden input named `name` in `html`.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(html[start..start + len].to_owned())
}

/// The pager's "next page" link of an inbox page, unescaped.
fn next_href(html: &str) -> Option<String> {
    let rel = html.find("rel=\"next\"")?;
    let start = html[..rel].rfind("href=\"")? + "href=\"".len();
    let len = html[start..].find('"')?;
    Some(unescape(&html[start..start + len]))
}

/// Undoes the HTML escaping a template applies to an attribute.
fn unescape(s: &str) -> String {
    [
        ("&amp;", "&"),
        ("&#38;", "&"),
        ("&#x26;", "&"),
        ("&#x2f;", "/"),
        ("&#47;", "/"),
        ("&#x3d;", "="),
        ("&#61;", "="),
    ]
    .iter()
    .fold(s.to_owned(), |acc, (from, to)| acc.replace(from, to))
}

/// Letters listed on an inbox page.
pub(super) fn letters_on(html: &str) -> usize {
    html.matches("class=\"letter-title\"").count()
}

/// Follows the pager from `start` to the last page: every page's request, in order, and the
/// letters listed on them all.
pub(super) async fn walk(b: &Browser, start: &str) -> anyhow::Result<(Vec<String>, usize)> {
    let mut pages = vec![start.to_owned()];
    let mut letters = 0;
    loop {
        let here = pages.last().map_or(start, String::as_str);
        let (status, html) = b.get(here).await?;
        ensure!(status == 200, "GET {here} answered {status}");
        letters += letters_on(&html);
        match next_href(&html) {
            Some(next) => pages.push(next),
            None => return Ok((pages, letters)),
        }
        ensure!(pages.len() <= 100_000, "the pager never ends");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_and_unescaped() {
        let html = r#"<nav class="paging"><a href="/inbox">Første side</a><a href="/inbox?unread=1&amp;cursor=abc%2Bd" rel="next">Neste side</a></nav>"#;
        assert_eq!(
            next_href(html).as_deref(),
            Some("/inbox?unread=1&cursor=abc%2Bd")
        );
        assert_eq!(next_href("<nav class=\"paging\"></nav>"), None);
    }

    #[test]
    fn the_hidden_csrf_field_is_read() {
        let html = r#"<form><input type="hidden" name="csrf" value="tok-123"></form>"#;
        assert_eq!(hidden(html, "csrf").as_deref(), Some("tok-123"));
        assert_eq!(hidden(html, "other"), None);
    }
}
