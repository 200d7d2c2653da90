//! Authorization, in one place: what a caller may do with a letter, an attachment, a resource or
//! an organisation's delegations. Use cases do not decide access themselves; they take a handle
//! this module hands out only after a decision, so a use case cannot be called without one:
//!
//! | Handle | Proves | Made by |
//! |---|---|---|
//! | [`LetterAccess`] | the caller may see the letter, as its sender, its recipient or both | [`Melding::letter_access`] |
//! | [`RecipientAccess`] | the caller may read the letter as its recipient | [`Melding::recipient_access`], [`LetterAccess::into_recipient`] |
//! | [`SenderAccess`] | the caller's organisation owns the resource, so it may send with it | initialize (a letter or an attachment) |
//! | [`AttachmentAccess`] | the caller is the attachment's sender | [`Melding::attachment_access`] |
//! | [`DelegationAccess`] | the caller may administer an organisation's delegations | [`Melding::delegation_access`] |
//!
//! The rules (reference §1.4, §5.2): a caller is a letter's sender when its organisation sent
//! it; a service owner's own resources bypass the read policy. It is a recipient when it is the
//! recipient party itself, or a person who may read the recipient organisation's post for the
//! letter's resource: through Enhetsregisteret roles, delegated roles or access packages, held
//! for the organisation or for its main unit. Deny by default: every refusal is
//! [`Rule::NoAccess`] (CORR-04001), written once, in `no_access`.
//!
//! A [`Pdp`] lives for one request and remembers its answers, so listing many letters of one
//! organisation asks the registry once; a delegation change is seen by the next request.

use std::collections::HashMap;
use std::sync::Arc;

use melding_domain::authz::{self, Holdings};
use melding_domain::correspondence::Correspondence;
use melding_domain::{Attachment, AttachmentId, CorrespondenceId, NationalId, OrgNumber, Party};
use melding_store::{Resource, Store};

use crate::principal::scopes;
use crate::{CoreError, Melding, Principal, Rule};

/// The one "no access" answer (CORR-04001). Every refusal of this module ends here, so the
/// answer cannot differ between use cases. Public for the one refusal made at the edge: a
/// search for a resource id that no resource can have (see `melding-http`'s search query).
pub fn no_access() -> CoreError {
    Rule::NoAccess.into()
}

/// Is the caller the organisation `org` itself?
fn is_org(principal: &Principal, org: &OrgNumber) -> bool {
    matches!(&principal.party, Party::Organization(o) if o == org)
}

/// Which side of a letter the caller acts on in this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// As the letter's sender: no Fetched or Read is logged, content is shown only before
    /// publishing, and a purge is the sender's (before publishing).
    Sender,
    /// As the letter's recipient: opening logs Fetched, reading logs Read, and a purge is the
    /// recipient's.
    Recipient,
}

/// What a caller holds for one letter: the raw decision, before a handle is made from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub(crate) sender: bool,
    pub(crate) recipient: bool,
}

impl Decision {
    fn any(&self) -> bool {
        self.sender || self.recipient
    }

    /// The one rule for "sender or recipient?": a caller holding both acts as the sender when
    /// it calls with a write token (`altinn:correspondence.write`), else as the recipient.
    fn side(&self, principal: &Principal) -> Side {
        if self.recipient && (!principal.calls_as_sender() || !self.sender) {
            Side::Recipient
        } else {
            Side::Sender
        }
    }
}

/// Proof that the caller may see one letter, as its sender, its recipient or both; it holds the
/// letter as it was loaded for the decision. Only [`Melding::letter_access`] makes one.
#[derive(Debug)]
#[must_use]
pub struct LetterAccess<'a> {
    principal: &'a Principal,
    letter: Correspondence,
    decision: Decision,
}

impl<'a> LetterAccess<'a> {
    /// The caller the decision was made for.
    pub fn principal(&self) -> &'a Principal {
        self.principal
    }

    /// The letter, as loaded when access was decided.
    pub fn letter(&self) -> &Correspondence {
        &self.letter
    }

    /// The letter's id.
    pub fn id(&self) -> CorrespondenceId {
        self.letter.id
    }

    /// The side the caller acts on (see [`Side`]).
    pub fn side(&self) -> Side {
        self.decision.side(self.principal)
    }

    /// Whether the caller may read the letter as its recipient, whichever side it acts on now;
    /// such a caller sees the whole status history.
    pub fn is_recipient(&self) -> bool {
        self.decision.recipient
    }

    /// The letter, giving up the handle.
    pub fn into_letter(self) -> Correspondence {
        self.letter
    }

    /// The recipient's handle, for a caller that may read the letter as its recipient.
    ///
    /// # Errors
    /// [`Rule::NoAccess`] (4001) for a caller that is only the letter's sender.
    pub fn into_recipient(self) -> Result<RecipientAccess<'a>, CoreError> {
        if !self.decision.recipient {
            return Err(no_access());
        }
        Ok(RecipientAccess {
            principal: self.principal,
            letter: self.letter,
        })
    }

    /// Checks that the caller acts on the recipient's side in this request (reading the content
    /// is the recipient's alone).
    ///
    /// # Errors
    /// [`Rule::NoAccess`] (4001) for a caller acting as the letter's sender.
    pub fn check_recipient_side(&self) -> Result<(), CoreError> {
        match self.side() {
            Side::Recipient => Ok(()),
            Side::Sender => Err(no_access()),
        }
    }
}

/// Proof that the caller may read one letter as its recipient (the recipient party, or a person
/// with a right to the recipient organisation's post for the letter's resource). Only the
/// authorization module makes one.
#[derive(Debug)]
#[must_use]
pub struct RecipientAccess<'a> {
    principal: &'a Principal,
    letter: Correspondence,
}

impl<'a> RecipientAccess<'a> {
    /// The caller the decision was made for; status entries it causes name its party.
    pub fn principal(&self) -> &'a Principal {
        self.principal
    }

    /// The letter, as loaded when access was decided.
    pub fn letter(&self) -> &Correspondence {
        &self.letter
    }

    /// The letter's id.
    pub fn id(&self) -> CorrespondenceId {
        self.letter.id
    }

    /// The letter, giving up the handle.
    pub fn into_letter(self) -> Correspondence {
        self.letter
    }
}

/// Proof that the caller's organisation owns a resource, so it may send letters and attachments
/// with it (reference §4.1). Made inside the initialize use cases, in Altinn's order of checks.
#[derive(Debug, Clone)]
#[must_use]
pub struct SenderAccess<'a> {
    principal: &'a Principal,
    sender: OrgNumber,
    resource: Resource,
}

impl<'a> SenderAccess<'a> {
    /// The caller the decision was made for.
    pub fn principal(&self) -> &'a Principal {
        self.principal
    }

    /// The sending organisation (the resource's owner).
    pub fn sender(&self) -> &OrgNumber {
        &self.sender
    }

    /// The resource the caller may send with.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }
}

/// Decides whether the caller may send with `resource`: only its owner may.
///
/// # Errors
/// [`Rule::NoAccess`] (4001) for any other caller.
pub(crate) fn sender_of(
    principal: &Principal,
    resource: Resource,
) -> Result<SenderAccess<'_>, CoreError> {
    if !is_org(principal, &resource.owner) {
        return Err(no_access());
    }
    Ok(SenderAccess {
        principal,
        sender: resource.owner.clone(),
        resource,
    })
}

/// Proof that the caller is an attachment's sender, who alone may see, upload, download before
/// publishing and purge it (reference §4.14). Only [`Melding::attachment_access`] makes one.
#[derive(Debug)]
#[must_use]
pub struct AttachmentAccess<'a> {
    principal: &'a Principal,
    attachment: Attachment,
}

impl<'a> AttachmentAccess<'a> {
    /// The caller the decision was made for.
    pub fn principal(&self) -> &'a Principal {
        self.principal
    }

    /// The attachment, as loaded when access was decided.
    pub fn attachment(&self) -> &Attachment {
        &self.attachment
    }

    /// The attachment's id.
    pub fn id(&self) -> AttachmentId {
        self.attachment.id
    }

    /// The attachment, giving up the handle.
    pub fn into_attachment(self) -> Attachment {
        self.attachment
    }
}

/// Proof that the caller may administer one organisation's delegations: an administrator
/// (`melding:admin`) for any organisation, its general manager or chair (DAGL, LEDE) for their
/// own. Only [`Melding::delegation_access`] makes one.
#[derive(Debug, Clone)]
#[must_use]
pub struct DelegationAccess<'a> {
    principal: &'a Principal,
    org: OrgNumber,
    by_admin: bool,
}

impl<'a> DelegationAccess<'a> {
    /// The caller the decision was made for.
    pub fn principal(&self) -> &'a Principal {
        self.principal
    }

    /// The organisation whose delegations the caller may change.
    pub fn org(&self) -> &OrgNumber {
        &self.org
    }

    /// Whether the caller acts as an administrator rather than for its own organisation.
    pub fn by_admin(&self) -> bool {
        self.by_admin
    }

    /// Who the delegation log names for a change: the caller's party URN, or
    /// `admin:<party URN>` for an administrator.
    pub fn actor(&self) -> String {
        if self.by_admin {
            format!("admin:{}", self.principal.party.urn())
        } else {
            self.principal.party.urn()
        }
    }
}

impl Melding {
    /// Loads a letter and decides the caller's access before anything else is looked at.
    ///
    /// # Errors
    /// [`Rule::NotFound`] (1001) when there is no such letter, [`Rule::NoAccess`] (4001) when
    /// the caller is neither its sender nor its recipient, [`CoreError::Store`] when the store
    /// fails.
    pub async fn letter_access<'a>(
        &self,
        principal: &'a Principal,
        id: CorrespondenceId,
    ) -> Result<LetterAccess<'a>, CoreError> {
        let letter = self.store.correspondence(id).await?.ok_or(Rule::NotFound)?;
        let decision = Pdp::new(self.store.clone())
            .decide(principal, &letter)
            .await?;
        if !decision.any() {
            return Err(no_access());
        }
        Ok(LetterAccess {
            principal,
            letter,
            decision,
        })
    }

    /// [`Melding::letter_access`] for a caller that must read the letter as its recipient.
    ///
    /// # Errors
    /// As [`Melding::letter_access`]; [`Rule::NoAccess`] (4001) also for the letter's sender
    /// when it is not its recipient too.
    pub async fn recipient_access<'a>(
        &self,
        principal: &'a Principal,
        id: CorrespondenceId,
    ) -> Result<RecipientAccess<'a>, CoreError> {
        self.letter_access(principal, id).await?.into_recipient()
    }

    /// Loads an attachment for its sender.
    ///
    /// # Errors
    /// [`Rule::AttachmentNotFound`] (2001) when there is no such attachment,
    /// [`Rule::NoAccess`] (4001) for anyone but its sender, [`CoreError::Store`].
    pub async fn attachment_access<'a>(
        &self,
        principal: &'a Principal,
        id: AttachmentId,
    ) -> Result<AttachmentAccess<'a>, CoreError> {
        let attachment = self
            .store
            .attachment(id)
            .await?
            .ok_or(Rule::AttachmentNotFound)?;
        if !is_org(principal, &attachment.sender) {
            return Err(no_access());
        }
        Ok(AttachmentAccess {
            principal,
            attachment,
        })
    }

    /// Decides whether the caller may administer `org`'s delegations (see [`DelegationAccess`]).
    ///
    /// # Errors
    /// [`Rule::NoAccess`] (4001) for anyone else, [`CoreError::Store`].
    pub async fn delegation_access<'a>(
        &self,
        principal: &'a Principal,
        org: &OrgNumber,
    ) -> Result<DelegationAccess<'a>, CoreError> {
        let by_admin = principal.has_scope(scopes::ADMIN);
        let allowed = by_admin
            || match &principal.party {
                Party::Person(p) => Pdp::new(self.store.clone())
                    .holdings_for(p, org)
                    .await?
                    .may_delegate(),
                Party::Organization(_) | Party::SelfIdentified(_) => false,
            };
        if !allowed {
            return Err(no_access());
        }
        Ok(DelegationAccess {
            principal,
            org: org.clone(),
            by_admin,
        })
    }

    /// Decides whose letters of `resource_id` a search may list: the caller's own, or, on
    /// behalf of `on_behalf_of`, a person's with a right to that organisation's post for the
    /// resource; the resource's service owner may search on behalf of any party (reference
    /// §1.4, the service-owner bypass).
    ///
    /// # Errors
    /// [`Rule::NoAccess`] (4001) for an unknown resource or a party the caller may not search
    /// for, [`CoreError::Store`].
    pub(crate) async fn search_scope(
        &self,
        principal: &Principal,
        resource_id: &str,
        on_behalf_of: Option<Party>,
    ) -> Result<SearchScope, CoreError> {
        let party = on_behalf_of.unwrap_or_else(|| principal.party.clone());
        let Some(resource) = self.store.resource(resource_id).await? else {
            return Err(no_access());
        };
        let mut pdp = Pdp::new(self.store.clone());
        let service_owner =
            principal.has_scope(scopes::SERVICE_OWNER) && is_org(principal, &resource.owner);
        // On behalf of another party: a person reading an organisation's post for this
        // resource. The sender role stays with the caller's own organisation.
        let on_behalf = party != principal.party;
        if on_behalf
            && !service_owner
            && !pdp
                .may_read_for(principal, &party.urn(), resource_id)
                .await?
        {
            return Err(no_access());
        }
        Ok(SearchScope {
            party,
            on_behalf,
            service_owner,
            pdp,
        })
    }
}

/// Whose letters a search may list, decided by [`Melding::search_scope`] before anything is
/// listed.
pub(crate) struct SearchScope {
    /// The party searched for: the caller's own, or the one it searches on behalf of.
    pub(crate) party: Party,
    /// Whether `party` is another than the caller's.
    pub(crate) on_behalf: bool,
    /// Whether the caller is the resource's service owner.
    pub(crate) service_owner: bool,
    pdp: Pdp,
}

impl SearchScope {
    /// Whether a search may name `letter`: to its sender always, to a recipient only while the
    /// letter is visible to them (published, not purged), as when opening it.
    pub(crate) async fn may_list(
        &mut self,
        principal: &Principal,
        letter: &Correspondence,
    ) -> Result<bool, CoreError> {
        let d = self.pdp.decide(principal, letter).await?;
        Ok(d.sender || (d.recipient && letter.statuses.is_recipient_visible()))
    }
}

/// The policy decision point for one request.
pub(crate) struct Pdp {
    store: Arc<dyn Store>,
    /// (person, organisation, resource) → may read.
    decisions: HashMap<(NationalId, OrgNumber, String), bool>,
    holdings: HashMap<(NationalId, OrgNumber), Holdings>,
}

impl std::fmt::Debug for Pdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pdp")
            .field("decisions", &self.decisions.len())
            .finish_non_exhaustive()
    }
}

impl Pdp {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            decisions: HashMap::new(),
            holdings: HashMap::new(),
        }
    }

    /// The caller's access to one letter.
    pub(crate) async fn decide(
        &mut self,
        principal: &Principal,
        letter: &Correspondence,
    ) -> Result<Decision, CoreError> {
        let sender = is_org(principal, &letter.settings.sender);
        let recipient = self
            .may_read_for(
                principal,
                &letter.recipient.urn(),
                letter.settings.resource_id.as_str(),
            )
            .await?;
        Ok(Decision { sender, recipient })
    }

    /// May the caller read post to `recipient_urn` sent with `resource_id`?
    pub(crate) async fn may_read_for(
        &mut self,
        principal: &Principal,
        recipient_urn: &str,
        resource_id: &str,
    ) -> Result<bool, CoreError> {
        if principal.party.urn() == recipient_urn {
            return Ok(true);
        }
        let (Party::Person(person), Some(org)) = (&principal.party, org_of(recipient_urn)) else {
            return Ok(false);
        };
        self.person_may_read(person, &org, resource_id).await
    }

    /// The decision for a person reading an organisation's post of one resource.
    pub(crate) async fn person_may_read(
        &mut self,
        person: &NationalId,
        org: &OrgNumber,
        resource_id: &str,
    ) -> Result<bool, CoreError> {
        let key = (person.clone(), org.clone(), resource_id.to_owned());
        if let Some(d) = self.decisions.get(&key) {
            return Ok(*d);
        }
        let decision = match self.store.resource(resource_id).await? {
            None => false,
            Some(resource) => {
                let holdings = self.holdings_for(person, org).await?;
                authz::may_read(&holdings, &resource.read_policy, resource.confidential)
            }
        };
        self.decisions.insert(key, decision);
        Ok(decision)
    }

    /// What the person holds for `org`, counting what they hold for its main unit.
    pub(crate) async fn holdings_for(
        &mut self,
        person: &NationalId,
        org: &OrgNumber,
    ) -> Result<Holdings, CoreError> {
        let key = (person.clone(), org.clone());
        if let Some(h) = self.holdings.get(&key) {
            return Ok(h.clone());
        }
        let mut h = self.store.holdings(person, org).await?;
        if let Some(parent) = self.store.organization(org).await?.and_then(|o| o.parent) {
            h.merge(self.store.holdings(person, &parent).await?);
        }
        self.holdings.insert(key, h.clone());
        Ok(h)
    }
}

/// Does `org` have someone registered who may receive confidential post: one of
/// [`authz::CONFIDENTIAL_RECIPIENT_ROLES`] held in the organisation or, for a sub-unit, in its
/// main unit (reference §5.2; a sub-unit is read through its main unit's roles)? Without one, a
/// confidential letter to it is refused with 1044.
pub(crate) async fn has_confidential_receiver(
    store: &dyn Store,
    org: &OrgNumber,
) -> Result<bool, CoreError> {
    let holds = |roles: &[melding_store::RoleAssignment]| {
        roles
            .iter()
            .any(|r| authz::CONFIDENTIAL_RECIPIENT_ROLES.contains(&r.role.as_str()))
    };
    if holds(&store.organization_roles(org).await?) {
        return Ok(true);
    }
    match store.organization(org).await?.and_then(|o| o.parent) {
        Some(main_unit) => Ok(holds(&store.organization_roles(&main_unit).await?)),
        None => Ok(false),
    }
}

fn org_of(urn: &str) -> Option<OrgNumber> {
    urn.strip_prefix(melding_domain::recipient::ORG_URN)
        .and_then(|n| OrgNumber::parse(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::t0;

    fn org_caller(scopes: &[&str]) -> Principal {
        Principal::new(
            Party::Organization(OrgNumber::parse("991825827").unwrap()),
            scopes.iter().copied(),
        )
    }

    /// The one "sender or recipient?" rule over every combination of holdings and token.
    #[test]
    fn a_caller_holding_both_sides_acts_as_sender_only_with_a_write_token() {
        let writer = org_caller(&[scopes::WRITE, scopes::READ]);
        let reader = org_caller(&[scopes::READ]);
        let both = Decision {
            sender: true,
            recipient: true,
        };
        let sender = Decision {
            sender: true,
            recipient: false,
        };
        let recipient = Decision {
            sender: false,
            recipient: true,
        };
        assert_eq!(both.side(&writer), Side::Sender);
        assert_eq!(both.side(&reader), Side::Recipient);
        assert_eq!(sender.side(&writer), Side::Sender);
        assert_eq!(sender.side(&reader), Side::Sender);
        assert_eq!(recipient.side(&writer), Side::Recipient);
        assert_eq!(recipient.side(&reader), Side::Recipient);
    }

    fn refused<T: std::fmt::Debug>(r: Result<T, CoreError>) -> bool {
        matches!(r, Err(CoreError::Rule(Rule::NoAccess)))
    }

    /// The handles against a real store: a letter from [`SENDER`] to [`RECIPIENT_ORG`], an
    /// attachment of [`SENDER`]'s, and [`RECIPIENT_ORG`]'s delegations; each is handed out to
    /// the party it belongs to and refused (4001) to everyone else.
    #[tokio::test]
    async fn handles_go_to_the_parties_the_letter_names_and_no_one_else() {
        use crate::InitializeRequest;
        use crate::attachments::AttachmentRequest;
        use crate::initialize::ContentInput;
        use crate::test_support::{ORG_RECIPIENT, OTHER_SENDER, RECIPIENT_ORG, SENDER, melding};
        use melding_domain::Recipient;
        use melding_domain::attachment::DataLocationType;

        let (melding, _dir) = melding().await;
        let org = |n: &str| Party::Organization(OrgNumber::parse(n).unwrap());
        let sender = Principal::new(org(SENDER), [scopes::WRITE]);
        let recipient = Principal::new(org(RECIPIENT_ORG), [scopes::READ]);
        let stranger = Principal::new(org(OTHER_SENDER), [scopes::READ, scopes::WRITE]);
        let person = Principal::new(
            Party::Person(NationalId::parse(crate::test_support::PERSON).unwrap()),
            [scopes::READ],
        );
        let admin = Principal::new(org(OTHER_SENDER), [scopes::ADMIN]);
        let done = melding
            .initialize(
                &sender,
                InitializeRequest {
                    resource_id: melding_domain::ResourceId::parse("kommunepost").unwrap(),
                    senders_reference: "sak-1".into(),
                    message_sender: None,
                    content: ContentInput {
                        language: None,
                        title: "Vedtak".into(),
                        summary: None,
                        body: "Tekst".into(),
                    },
                    requested_publish_time: None,
                    due_date_time: None,
                    external_references: vec![],
                    property_list: Default::default(),
                    reply_options: vec![],
                    ignore_reservation: None,
                    is_confirmation_needed: false,
                    is_confidential: false,
                    allow_forwarding: false,
                    digital_only: false,
                    recipients: vec![Recipient::parse(ORG_RECIPIENT).unwrap()],
                    existing_attachments: vec![],
                    new_attachments: vec![],
                    files: None,
                    idempotent_key: None,
                    notification: None,
                },
            )
            .await
            .unwrap();
        let id = done.letters[0].id;

        let as_sender = melding.letter_access(&sender, id).await.unwrap();
        assert_eq!(
            (as_sender.side(), as_sender.is_recipient()),
            (Side::Sender, false)
        );
        assert!(refused(as_sender.check_recipient_side()));
        assert!(refused(as_sender.into_recipient()));
        let as_recipient = melding.letter_access(&recipient, id).await.unwrap();
        assert_eq!(as_recipient.side(), Side::Recipient);
        assert_eq!(as_recipient.into_recipient().unwrap().id(), id);
        assert!(refused(melding.letter_access(&stranger, id).await));
        assert!(refused(melding.recipient_access(&person, id).await));
        assert!(matches!(
            melding
                .letter_access(&sender, CorrespondenceId::new_v7(t0()))
                .await,
            Err(CoreError::Rule(Rule::NotFound))
        ));

        let attachment = melding
            .initialize_attachment(
                &sender,
                &melding_domain::ResourceId::parse("urn:altinn:resource:kommunepost").unwrap(),
                AttachmentRequest {
                    file_name: "vedtak.pdf".into(),
                    display_name: None,
                    is_encrypted: false,
                    checksum: None,
                    senders_reference: "vedlegg".into(),
                    expiration_in_days: None,
                    data_location_type: DataLocationType::AltinnCorrespondenceAttachment,
                },
            )
            .await
            .unwrap();
        let owned = melding
            .attachment_access(&sender, attachment)
            .await
            .unwrap();
        assert_eq!(owned.attachment().sender, OrgNumber::parse(SENDER).unwrap());
        assert!(refused(
            melding.attachment_access(&recipient, attachment).await
        ));
        assert!(refused(
            melding
                .initialize_attachment(
                    &stranger,
                    &melding_domain::ResourceId::parse("kommunepost").unwrap(),
                    AttachmentRequest {
                        file_name: "x.pdf".into(),
                        display_name: None,
                        is_encrypted: false,
                        checksum: None,
                        senders_reference: "x".into(),
                        expiration_in_days: None,
                        data_location_type: DataLocationType::AltinnCorrespondenceAttachment,
                    },
                )
                .await
        ));

        let recipient_org = OrgNumber::parse(RECIPIENT_ORG).unwrap();
        assert!(refused(
            melding.delegation_access(&recipient, &recipient_org).await
        ));
        assert!(refused(
            melding.delegation_access(&person, &recipient_org).await
        ));
        let by_admin = melding
            .delegation_access(&admin, &recipient_org)
            .await
            .unwrap();
        assert_eq!(by_admin.actor(), format!("admin:{}", admin.party.urn()));
    }

    #[test]
    fn only_the_resource_owner_may_send_with_it() {
        let owner = org_caller(&[scopes::WRITE]);
        let other = Principal::new(
            Party::Organization(OrgNumber::parse("974760673").unwrap()),
            [scopes::WRITE],
        );
        let resource = Resource {
            id: "vedtak".into(),
            owner: OrgNumber::parse("991825827").unwrap(),
            service_owner_code: "ttd".into(),
            title: "Vedtak".into(),
            confidential: false,
            read_policy: vec![],
            resource_type: melding_domain::ResourceType::CorrespondenceService,
            minimum_authentication_level: 0,
        };
        let access = sender_of(&owner, resource.clone()).unwrap();
        assert_eq!(access.sender(), &resource.owner);
        assert!(matches!(
            sender_of(&other, resource),
            Err(CoreError::Rule(Rule::NoAccess))
        ));
    }
}
