//! Forwarding (reference §4.12): a recipient sends a copy of a read letter to an e-mail
//! address, with its attachments.
//!
//! The request ([`Melding::forward`]) checks the reference's rules in its order, then records a
//! forwarding event and, in the same write, the [`ForwardCorrespondence`] job; it sends
//! nothing itself. The job ([`send`]) composes the e-mail (subject = the letter's title, body =
//! the forwarding text, a separator and the letter's body, attachments as files) and hands it to
//! the e-mail channel notifications use. Once the channel accepts it, the event is marked sent
//! and the letter gets its Forwarded status, both in one write, so a repeated job appends
//! nothing. The event's id is the e-mail's idempotency key (its `Message-ID`), as a
//! notification's id is for notices.
//!
//! Where Melding differs from Altinn: Altinn hands a composed e-mail to Altinn Notifications
//! and polls for `Email_Delivered` before it appends Forwarded; Melding sends through its own
//! channel and appends Forwarded when the SMTP server accepts the message. Attachments go as
//! files up to [`ForwardingSettings::attach_max`]; those beyond it go as expiring download
//! links ([`links`]) when the node knows its public address
//! ([`ForwardingSettings::link_base_url`]), and are otherwise listed by name in the body.

pub mod links;
mod send;

use melding_domain::forwarding::{
    self, ForwardToError, ForwardingEvent, ForwardingTextError, address_key,
};
use melding_domain::{ByteSize, CorrespondenceId, CorrespondenceStatus, ForwardingEventId};
use melding_jobs::JobKind;
use melding_store::StoreError;
use serde::{Deserialize, Serialize};

use crate::access::RecipientAccess;
use crate::{CoreError, Melding, Rule};

/// A forward request's body as the HTTP edge received it (`{"forwardTo", "forwardingText"}`),
/// unchecked: [`Melding::forward`] checks it in the reference's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardRequest {
    /// The address to forward to.
    pub forward_to: String,
    /// The recipient's own text, put before the letter's body; optional.
    pub forwarding_text: Option<String>,
}

/// How forwarded letters' e-mails are composed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardingSettings {
    /// The most bytes of attachments one forwarded e-mail carries as files (their sizes as
    /// stored, before base64); attachments beyond it, in the letter's order, are listed by name
    /// in the body instead. Default 10 MB ([`melding_domain::attachment::FORWARDING_MAX`], the
    /// most a letter that allows forwarding can carry, so by default every file goes along).
    pub attach_max: ByteSize,
    /// The address this node's API is reached at from outside (`https://melding.example.no`,
    /// no trailing slash), that download links in forwarded e-mails start with. `None` (the
    /// default): attachments beyond [`Self::attach_max`] are listed by name instead of linked.
    pub link_base_url: Option<String>,
    /// How long a download link works after the e-mail is composed; 7 days by default. The
    /// attachment's own expiry and purging end it earlier.
    pub link_lifetime: chrono::Duration,
}

impl Default for ForwardingSettings {
    fn default() -> Self {
        Self {
            attach_max: melding_domain::attachment::FORWARDING_MAX,
            link_base_url: None,
            link_lifetime: chrono::Duration::days(7),
        }
    }
}

/// Send the composed e-mail of one forwarding event (`forward-correspondence`, payload
/// `{"forwardingEventId": …}`). Transient failures are retried with back-off (2 s, 4 s, …
/// capped at an hour) for 40 attempts, about 36 hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardCorrespondence {
    /// The event; also the idempotency key of its e-mail.
    pub forwarding_event_id: ForwardingEventId,
}

impl JobKind for ForwardCorrespondence {
    const KIND: &'static str = "forward-correspondence";
    const MAX_ATTEMPTS: u32 = 40;
    fn dedupe_key(&self) -> String {
        format!("{}:{}", Self::KIND, self.forwarding_event_id)
    }
}

impl Melding {
    /// `POST …/{id}/forward`: records the forwarding of a letter to `req.forward_to` and the
    /// job that sends it; returns the event's id. The checks run in the reference's order
    /// (§4.12): visible to the recipient (1001; the caller's access, 4001, was decided by the
    /// handle), the address (3011, 3027), `allowForwarding` (1063), the text (1066, 1067), read
    /// (1065), not forwarded to the same trimmed, lower-cased address before (1064). Altinn's
    /// last check, 4002 (the caller's party has no UUID in its register), has no counterpart:
    /// the caller's party comes from the token.
    ///
    /// # Errors
    /// The [`Rule`]s above, [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(correspondence_id = %access.id()))]
    pub async fn forward(
        &self,
        access: RecipientAccess<'_>,
        req: ForwardRequest,
    ) -> Result<ForwardingEventId, CoreError> {
        let principal = access.principal();
        let letter = access.into_letter();
        letter.statuses.check_recipient_fetch()?;
        let to = forwarding::parse_forward_to(&req.forward_to).map_err(|e| match e {
            ForwardToError::Invalid => Rule::InvalidForwardTo,
            ForwardToError::TooLong => Rule::ForwardToTooLong,
        })?;
        if !letter.settings.allow_forwarding {
            return Err(Rule::ForwardingNotAllowed.into());
        }
        let text = forwarding::check_forwarding_text(req.forwarding_text.as_deref()).map_err(
            |e| match e {
                ForwardingTextError::TooLong => Rule::ForwardingTextTooLong,
                ForwardingTextError::NotPlainText => Rule::ForwardingTextNotPlainText,
            },
        )?;
        if !letter.statuses.has_been(CorrespondenceStatus::Read) {
            return Err(Rule::ForwardBeforeRead.into());
        }
        let key = address_key(&to);
        if self
            .store
            .forwarding_events(letter.id)
            .await?
            .iter()
            .any(|e| e.address_key() == key)
        {
            return Err(Rule::AlreadyForwarded.into());
        }
        let now = self.clock.now();
        let event = ForwardingEvent {
            id: ForwardingEventId::new_v7(now),
            correspondence_id: letter.id,
            forwarded_on: now,
            forwarded_by: principal.party.urn(),
            to_email: to,
            forwarding_text: text,
            sent: None,
        };
        let job = ForwardCorrespondence {
            forwarding_event_id: event.id,
        };
        match self
            .store
            .insert_forwarding_event(&event, &[job.due_at(now)])
            .await
        {
            Ok(()) => {}
            // A concurrent forward to the same address won the unique key.
            Err(StoreError::Conflict(_)) => return Err(Rule::AlreadyForwarded.into()),
            Err(e) => return Err(e.into()),
        }
        self.waker.wake();
        tracing::info!(forwarding_event_id = %event.id, "forwarding recorded");
        Ok(event.id)
    }

    /// `GET …/{id}/forward/check`: whether the letter allows forwarding (reference §4.12).
    ///
    /// # Errors
    /// [`Rule::NotFound`] (1001) when there is no such letter, [`CoreError::Store`].
    #[tracing::instrument(skip_all, fields(correspondence_id = %id))]
    pub async fn forwarding_allowed(&self, id: CorrespondenceId) -> Result<bool, CoreError> {
        let letter = self.store.correspondence(id).await?.ok_or(Rule::NotFound)?;
        Ok(letter.settings.allow_forwarding)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use melding_store::NewJob;

    use super::*;

    /// The job's row, exactly as stored: rows outlive versions, so this never changes.
    #[test]
    fn the_forward_job_keeps_its_stored_shape() {
        let at = Utc.with_ymd_and_hms(2026, 2, 2, 8, 0, 0).unwrap();
        let id: ForwardingEventId = "0194c2a0-5c00-7000-8000-000000000003".parse().unwrap();
        let job = ForwardCorrespondence {
            forwarding_event_id: id,
        };
        assert_eq!(
            job.due_at(at),
            NewJob {
                kind: "forward-correspondence".into(),
                dedupe_key: format!("forward-correspondence:{id}"),
                correspondence_id: None,
                run_at: at,
                max_attempts: 40,
                payload: serde_json::json!({"forwardingEventId": id.to_string()}),
            }
        );
    }
}
