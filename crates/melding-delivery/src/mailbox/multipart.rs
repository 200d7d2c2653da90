//! The multipart body of a Digipost message.
//!
//! Written here rather than with reqwest's `multipart::Form`, because the request signature
//! covers the SHA-256 of the exact body bytes (so we need them before sending, and `Form` only
//! streams), and because Digipost wants its own subtype (`multipart/vnd.digipost-v8+xml`) with
//! `Content-Disposition: attachment; filename="…"` parts, not `form-data`. RFC 2046 §5.1: parts
//! separated by `--boundary` lines with CRLF, closed by `--boundary--`.

/// One part: its media type, the file name its `Content-Disposition` carries, and its bytes.
pub(super) struct Part<'a> {
    pub(super) content_type: &'a str,
    pub(super) filename: &'a str,
    pub(super) bytes: &'a [u8],
}

/// The body for `parts` separated by `boundary`. The boundary must not occur in any part; a
/// random UUID (as the caller uses) makes that as good as certain.
pub(super) fn encode(boundary: &str, parts: &[Part<'_>]) -> Vec<u8> {
    let size: usize = parts.iter().map(|p| p.bytes.len() + 160).sum();
    let mut body = Vec::with_capacity(size + 64);
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(format!("Content-Type: {}\r\n", part.content_type).as_bytes());
        body.extend_from_slice(
            format!(
                "Content-Disposition: attachment; filename=\"{}\"\r\n\r\n",
                part.filename
            )
            .as_bytes(),
        );
        body.extend_from_slice(part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_framed_by_the_boundary() {
        let body = encode(
            "b0",
            &[
                Part {
                    content_type: "application/vnd.digipost-v8+xml",
                    filename: "message",
                    bytes: b"<message/>",
                },
                Part {
                    content_type: "application/pdf",
                    filename: "u-1",
                    bytes: b"%PDF",
                },
            ],
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "--b0\r\nContent-Type: application/vnd.digipost-v8+xml\r\n\
             Content-Disposition: attachment; filename=\"message\"\r\n\r\n<message/>\r\n\
             --b0\r\nContent-Type: application/pdf\r\n\
             Content-Disposition: attachment; filename=\"u-1\"\r\n\r\n%PDF\r\n--b0--\r\n"
        );
    }
}
