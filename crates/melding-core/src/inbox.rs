//! The web inbox's use cases (issue 17): whom a person may read post for, one recipient's
//! letters across every resource with the inbox's filters, and archiving a letter. Every letter
//! listed has passed the same policy decision as opening it through the API
//! ([`Melding::letter_access`]); there is no second path to the data.

use chrono::{DateTime, Utc};
use melding_domain::status::LifecycleError;
use melding_domain::{CorrespondenceId, CorrespondenceStatus, OrgNumber, Party, StatusEntry};
use melding_store::{AppendGuard, InboxQuery};

use crate::access::{Pdp, RecipientAccess};
use crate::search::{decode_cursor, encode_cursor};
use crate::{CoreError, Melding, Principal, Rule};

/// The most letters one inbox page lists.
pub const MAX_INBOX_PAGE: u32 = 100;

/// What an inbox page asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRequest {
    /// Whose post: the person's own party, or an organisation they may read post for.
    pub party: Party,
    /// Only letters not read yet.
    pub unread_only: bool,
    /// `false`: the inbox (letters not archived); `true`: the archive.
    pub archived: bool,
    /// Only letters from this sending organisation.
    pub sender: Option<OrgNumber>,
    /// Only letters whose title or summary contains this text (case ignored); blank is no
    /// filter.
    pub text: Option<String>,
    /// Letters per page, clamped to 1..=[`MAX_INBOX_PAGE`].
    pub limit: u32,
    /// Continue after this cursor (from [`InboxPage::next_cursor`]).
    pub cursor: Option<String>,
    /// Also list the senders of the party's letters, for the sender filter
    /// ([`InboxPage::senders`]).
    pub with_senders: bool,
}

/// One letter as the inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntry {
    /// The letter.
    pub id: CorrespondenceId,
    /// The sending organisation.
    pub sender: OrgNumber,
    /// The name shown as sender: the letter's `messageSender`, else the organisation's
    /// registered name, else `None`.
    pub sender_name: Option<String>,
    /// The title.
    pub title: String,
    /// The summary (markdown, shown as text in the list).
    pub summary: String,
    /// When the letter became visible (UTC); its requested publish time when the store has no
    /// publish time.
    pub published: DateTime<Utc>,
    /// The sender's due date (UTC), if any.
    pub due: Option<DateTime<Utc>>,
    /// When the content is deleted (UTC), for letters of a resource in the delivery chain
    /// (retention, DESIGN step 7); `None` when the letter is kept until purged.
    pub deletion_due: Option<DateTime<Utc>>,
    /// Whether the letter is confidential ("taushetsbelagt").
    pub confidential: bool,
    /// Whether it has been read.
    pub read: bool,
    /// Whether it is archived.
    pub archived: bool,
    /// Whether the sender asks for confirmation, and whether it has been given.
    pub confirmation_needed: bool,
    /// Whether it has been confirmed.
    pub confirmed: bool,
}

/// One page of the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxPage {
    /// The letters, newest first.
    pub entries: Vec<InboxEntry>,
    /// Where the next page starts, when there may be more.
    pub next_cursor: Option<String>,
    /// With [`InboxRequest::with_senders`]: every organisation that sent the party a letter
    /// the inbox lists, ordered by organisation number, with its registered name (`None` when
    /// the registry does not know it); otherwise empty.
    pub senders: Vec<(OrgNumber, Option<String>)>,
}

impl Melding {
    /// Whether `principal` may read post for `party`: its own party, or an organisation it holds
    /// a post right for (one of [`Melding::authorized_parties`]).
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub async fn may_act_for(
        &self,
        principal: &Principal,
        party: &Party,
    ) -> Result<bool, CoreError> {
        if *party == principal.party {
            return Ok(true);
        }
        Ok(self
            .authorized_parties(principal)
            .await?
            .iter()
            .any(|p| p.party == *party))
    }

    /// The registered name of `party`: a person's from the population registry, an
    /// organisation's from Enhetsregisteret, a self-identified user's own; `None` when the
    /// registry does not know the party.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub async fn party_name(&self, party: &Party) -> Result<Option<String>, CoreError> {
        Ok(match party {
            Party::Person(p) => self.store.person(p).await?.map(|p| p.name),
            Party::Organization(o) => self.store.organization(o).await?.map(|o| o.name),
            Party::SelfIdentified(u) => self.store.self_identified_user(u).await?.map(|u| u.name),
        })
    }

    /// The security level (0–4) a login needs to open `letter`: its resource's
    /// `minimumAuthenticationLevel` (issue 17 item 1); 0 for a resource no longer registered.
    ///
    /// # Errors
    /// [`CoreError::Store`].
    pub async fn minimum_authentication_level(
        &self,
        letter: &melding_domain::correspondence::Correspondence,
    ) -> Result<u8, CoreError> {
        Ok(self
            .store
            .resource(letter.settings.resource_id.as_str())
            .await?
            .map_or(0, |r| r.minimum_authentication_level))
    }

    /// One page of `req.party`'s letters that `principal` may read: published, not purged,
    /// of a resource whose policy lets the principal read for the party, newest first; and,
    /// with [`InboxRequest::with_senders`], the senders for the page's sender filter, under
    /// the same one decision whether the principal may act for the party.
    ///
    /// # Errors
    /// [`Rule::NoAccess`] (4001) when the principal may not act for the party;
    /// [`CoreError::Store`]. A cursor that does not decode starts from the top.
    pub async fn inbox(
        &self,
        principal: &Principal,
        req: InboxRequest,
    ) -> Result<InboxPage, CoreError> {
        if !self.may_act_for(principal, &req.party).await? {
            return Err(Rule::NoAccess.into());
        }
        let limit = req.limit.clamp(1, MAX_INBOX_PAGE);
        let mut query = InboxQuery {
            party_urn: req.party.urn(),
            unread_only: req.unread_only,
            archived: req.archived,
            sender: req.sender.as_ref().map(ToString::to_string),
            text: req
                .text
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            limit,
            after: req.cursor.as_deref().and_then(decode_cursor),
        };
        let mut names: std::collections::HashMap<OrgNumber, Option<String>> =
            std::collections::HashMap::new();
        let mut senders = Vec::new();
        if req.with_senders {
            for sender in self.store.inbox_senders(&query.party_urn).await? {
                let Ok(org) = OrgNumber::parse(&sender) else {
                    continue;
                };
                let name = self.store.organization(&org).await?.map(|o| o.name);
                names.insert(org.clone(), name.clone());
                senders.push((org, name));
            }
        }
        let mut pdp = Pdp::new(self.store.clone());
        let mut entries = Vec::new();
        // A letter of a resource the principal may not read for the party is left out; the
        // next store page fills its place.
        let next_cursor = 'pages: loop {
            let page = self.store.inbox(&query).await?;
            let on_page = page.ids.len();
            let mut letters: std::collections::HashMap<_, _> = self
                .store
                .correspondences(&page.ids)
                .await?
                .into_iter()
                .map(|l| (l.id, l))
                .collect();
            for (i, id) in page.ids.into_iter().enumerate() {
                let Some(letter) = letters.remove(&id) else {
                    continue;
                };
                if !pdp.decide(principal, &letter).await?.recipient
                    || !letter.statuses.is_recipient_visible()
                {
                    continue;
                }
                let sender = letter.settings.sender.clone();
                let sender_name = match &letter.settings.message_sender {
                    Some(name) => Some(name.clone()),
                    None => {
                        if !names.contains_key(&sender) {
                            let name = self.store.organization(&sender).await?.map(|o| o.name);
                            names.insert(sender.clone(), name);
                        }
                        names[&sender].clone()
                    }
                };
                let s = &letter.statuses;
                // Where the listed letter stands in the store's order.
                let last = (letter.settings.requested_publish_time, id);
                entries.push(InboxEntry {
                    id,
                    sender,
                    sender_name,
                    title: letter.settings.content.title.clone(),
                    summary: letter.settings.content.summary.clone(),
                    published: letter
                        .published
                        .unwrap_or(letter.settings.requested_publish_time),
                    due: letter.settings.due_date_time,
                    deletion_due: self.content_deletion_due(&letter),
                    confidential: letter.settings.is_confidential,
                    read: s.has_been(CorrespondenceStatus::Read),
                    archived: s.has_been(CorrespondenceStatus::Archived),
                    confirmation_needed: letter.settings.is_confirmation_needed,
                    confirmed: s.has_been(CorrespondenceStatus::Confirmed),
                });
                if entries.len() == limit as usize {
                    // More follow when this store page had more, or another page does.
                    let more = i + 1 < on_page || page.next.is_some();
                    break 'pages more.then(|| encode_cursor(last.0, last.1));
                }
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => break None,
            }
        };
        Ok(InboxPage {
            entries,
            next_cursor,
            senders,
        })
    }

    /// Archives a letter for its recipient: it leaves the inbox for the archive, and is kept
    /// (Archived, reference §3 status 9; the sender never sees it). The rules are those of a
    /// recipient's purge: visible, not purged, confirmed first when confirmation is needed
    /// (1026). Archiving twice changes nothing.
    ///
    /// # Errors
    /// Lifecycle errors (1001 not visible, 1014 purged, 1026 not confirmed),
    /// [`CoreError::Store`].
    pub async fn archive(
        &self,
        access: RecipientAccess<'_>,
    ) -> Result<CorrespondenceId, CoreError> {
        let id = access.id();
        let letter = access.letter();
        letter
            .statuses
            .check_recipient_purge(letter.settings.is_confirmation_needed)
            .map_err(|e| match e {
                LifecycleError::AlreadyPurged => Rule::NotFound.into(),
                e => CoreError::from(e),
            })?;
        let entry = StatusEntry::new(
            CorrespondenceStatus::Archived,
            self.clock.now(),
            Some(access.principal().party.urn()),
        );
        let guard = AppendGuard::UnlessAny(vec![CorrespondenceStatus::Archived]);
        self.store.append_status(id, &entry, guard, &[]).await?;
        Ok(id)
    }
}
