//! Expiring download links in forwarded letters' e-mails (reference §4.12, "attachments too
//! large to attach are sent as expiring download links").
//!
//! A link is `<link_base_url>/correspondence/api/v1/forwarding/attachment/<token>`: the token is
//! 32 random bytes (base64url, 43 characters), and Melding stores only its SHA-256, with the
//! forwarding, the letter, the attachment and the expiry. Whoever holds the e-mail may download
//! that one attachment without a login until the link expires, as with the links Altinn puts in
//! its forwarded e-mails; the attachment's own expiry, purging it, or purging the letter ends the
//! link earlier.

use base64::Engine;
use chrono::{DateTime, Utc};
use melding_domain::attachment::AttachmentStatus;
use melding_domain::forwarding::ForwardingLink;
use sha2::{Digest, Sha256};

use super::Melding;
use crate::CoreError;
use crate::attachments::Download;

/// The path of a download link before its token (after the node's public address).
pub const LINK_PATH: &str = "/correspondence/api/v1/forwarding/attachment/";

/// Why a download link gives no file. The HTTP edge answers 404 for [`LinkError::Unknown`] and
/// 410 for the others, without saying more than the variant does.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// No link has this token (mistyped, or never made).
    #[error("the download link is unknown")]
    Unknown,
    /// The link's lifetime ended at this time (UTC).
    #[error("the download link expired at {0}")]
    Expired(DateTime<Utc>),
    /// The link is live, but its attachment or its letter has been purged, or the attachment
    /// has expired.
    #[error("the attachment is no longer available")]
    Gone,
    /// Storage failed, or the attachment's bytes could not be read.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<melding_store::StoreError> for LinkError {
    fn from(e: melding_store::StoreError) -> Self {
        LinkError::Core(e.into())
    }
}

/// A new random token and its SHA-256 hex: the token goes into the e-mail, the hash into the
/// store.
pub(crate) fn new_token() -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The SHA-256 of `token` as 64 lower-case hex digits: the key a link is stored under.
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// Whether `token` has the shape of a link token (43 base64url characters), so a malformed one
/// is refused without a lookup.
pub(crate) fn is_token_shaped(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Melding {
    /// `GET /correspondence/api/v1/forwarding/attachment/{token}`: the attachment a forwarded
    /// e-mail's download link names, for whoever holds the link. Nothing about the letter is
    /// logged as the recipient's action (the reader is the forwardee); the download is logged
    /// to the node's log with the link's forwarding.
    ///
    /// # Errors
    /// [`LinkError::Unknown`] for a token that names no link, [`LinkError::Expired`] after the
    /// link's expiry, [`LinkError::Gone`] when the attachment or the letter is purged or the
    /// attachment has expired, [`LinkError::Core`] when storage fails.
    #[tracing::instrument(skip_all)]
    pub async fn download_forwarded_attachment(&self, token: &str) -> Result<Download, LinkError> {
        if !is_token_shaped(token) {
            return Err(LinkError::Unknown);
        }
        let Some(link) = self.store.forwarding_link(&token_hash(token)).await? else {
            return Err(LinkError::Unknown);
        };
        let now = self.clock.now();
        if now >= link.expires {
            return Err(LinkError::Expired(link.expires));
        }
        let letter = self.store.correspondence(link.correspondence_id).await?;
        if letter.is_none_or(|l| l.statuses.is_purged()) {
            return Err(LinkError::Gone);
        }
        let attachment = self
            .store
            .attachments_of(link.correspondence_id)
            .await?
            .into_iter()
            .find(|l| l.attachment.id == link.attachment_id)
            .filter(|l| !l.attachment.has_been(AttachmentStatus::Purged) && !l.is_expired(now))
            .ok_or(LinkError::Gone)?;
        tracing::info!(
            forwarding_event_id = %link.forwarding_event_id,
            attachment_id = %link.attachment_id,
            "forwarded attachment downloaded by link"
        );
        Ok(self.open_download(attachment.attachment).await?)
    }

    /// Makes and stores one download link per attachment in `attachments` for the forwarding
    /// `event`, expiring after [`super::ForwardingSettings::link_lifetime`], and returns each
    /// link's URL with the expiry; `None` when the node has no public address to link to.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) async fn make_forwarding_links(
        &self,
        event: &melding_domain::forwarding::ForwardingEvent,
        attachments: &[melding_domain::AttachmentId],
    ) -> Result<Option<(Vec<String>, DateTime<Utc>)>, melding_store::StoreError> {
        let Some(base) = self.forwarding.link_base_url.as_deref() else {
            return Ok(None);
        };
        let now = self.clock.now();
        let expires = now + self.forwarding.link_lifetime;
        let mut urls = Vec::with_capacity(attachments.len());
        let mut links = Vec::with_capacity(attachments.len());
        for &attachment_id in attachments {
            let (token, token_hash) = new_token();
            urls.push(format!("{}{LINK_PATH}{token}", base.trim_end_matches('/')));
            links.push(ForwardingLink {
                token_hash,
                forwarding_event_id: event.id,
                correspondence_id: event.correspondence_id,
                attachment_id,
                created: now,
                expires,
            });
        }
        self.store.insert_forwarding_links(&links).await?;
        Ok(Some((urls, expires)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(is_token_shaped(&a), "{a}");
        assert_eq!(hash_a, token_hash(&a));
        assert_eq!(hash_a.len(), 64);
        assert!(!hash_a.contains(&a));
        // The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn malformed_tokens_are_refused_by_shape() {
        assert!(!is_token_shaped(""));
        assert!(!is_token_shaped(&"a".repeat(42)));
        assert!(!is_token_shaped(&"a".repeat(44)));
        assert!(!is_token_shaped(&format!("{}=", "a".repeat(42))));
        assert!(!is_token_shaped(&format!("{}/", "a".repeat(42))));
        assert!(is_token_shaped(&format!("{}-_", "a".repeat(41))));
    }
}
