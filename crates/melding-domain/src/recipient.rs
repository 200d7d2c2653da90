//! Recipients and parties as URNs (reference §5.1–5.2). A recipient is parsed from what a sender
//! writes (`0192:991825827`, `urn:altinn:person:identifier-no:08089403198`, `08089403198`, …) and
//! is from then on held in its one normalised URN form.

use std::fmt;

use crate::identifiers::{IdentifierError, NationalId, OrgNumber};

/// The URN prefix of an organisation, before its 9-digit number (reference §5.1).
pub const ORG_URN: &str = "urn:altinn:organization:identifier-no:";
/// The URN prefix of a person, before their 11-digit national identity number (§5.1).
pub const PERSON_URN: &str = "urn:altinn:person:identifier-no:";
/// The URN prefix of an ID-porten e-mail user, before the address (§5.1).
pub const EMAIL_URN: &str = "urn:altinn:person:idporten-email:";
/// The URN prefix of a legacy self-identified user, before the user name (§5.1).
pub const SELF_IDENTIFIED_URN: &str = "urn:altinn:person:legacy-selfidentified:";

/// A party that can send or receive post and hold a token: an organisation, a person with a
/// national identity number, or a self-identified user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Party {
    /// An organisation in Enhetsregisteret.
    Organization(OrgNumber),
    /// A person with a national identity number.
    Person(NationalId),
    /// A person without a Norwegian identity number, known by a login (reference §5.1).
    SelfIdentified(SelfIdentified),
}

/// A self-identified user: someone Altinn knows by the login they registered rather than a
/// national identity number (reference §5.1, §5.2). Held lower-cased, as the reference
/// normalises recipients.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SelfIdentified {
    /// An ID-porten user who logs in with an e-mail address
    /// (`urn:altinn:person:idporten-email:kari@example.no`).
    IdportenEmail(String),
    /// A legacy Altinn 2 self-identified user with a user name
    /// (`urn:altinn:person:legacy-selfidentified:kari77`).
    Legacy(String),
}

impl SelfIdentified {
    /// An ID-porten e-mail user. Errors: [`RecipientError::Email`] unless the address has one
    /// `@` with text on both sides and no `:` (reference §5.2's simple rule).
    pub fn idporten_email(email: &str) -> Result<Self, RecipientError> {
        let email = email.trim().to_ascii_lowercase();
        if is_simple_email(&email) {
            Ok(SelfIdentified::IdportenEmail(email))
        } else {
            Err(RecipientError::Email)
        }
    }

    /// A legacy self-identified user. Errors: [`RecipientError::Format`] for an empty user name
    /// or one with a `:` (reference §5.2: `legacy-selfidentified:[^:]+`).
    pub fn legacy(username: &str) -> Result<Self, RecipientError> {
        let name = username.trim().to_ascii_lowercase();
        if name.is_empty() || name.contains(':') {
            Err(RecipientError::Format)
        } else {
            Ok(SelfIdentified::Legacy(name))
        }
    }

    /// The user's party URN, e.g. `urn:altinn:person:idporten-email:kari@example.no`.
    pub fn urn(&self) -> String {
        match self {
            SelfIdentified::IdportenEmail(e) => format!("{EMAIL_URN}{e}"),
            SelfIdentified::Legacy(n) => format!("{SELF_IDENTIFIED_URN}{n}"),
        }
    }

    /// The user from exactly one of the two URN forms; `None` for anything else.
    pub fn from_urn(urn: &str) -> Option<Result<Self, RecipientError>> {
        let s = urn.trim().to_ascii_lowercase();
        if let Some(name) = s.strip_prefix(SELF_IDENTIFIED_URN) {
            return Some(Self::legacy(name));
        }
        s.strip_prefix(EMAIL_URN).map(Self::idporten_email)
    }
}

impl fmt::Display for SelfIdentified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.urn())
    }
}

impl Party {
    /// The party's URN: `urn:altinn:organization:identifier-no:…`,
    /// `urn:altinn:person:identifier-no:…` or a self-identified user's URN.
    pub fn urn(&self) -> String {
        match self {
            Party::Organization(o) => format!("{ORG_URN}{o}"),
            Party::Person(p) => format!("{PERSON_URN}{p}"),
            Party::SelfIdentified(u) => u.urn(),
        }
    }

    /// The `onBehalfOf` forms the search accepts: an organisation URN, `0192:` or 9 bare digits,
    /// or a national identity number with or without its URN prefix (reference §4.6).
    ///
    /// Errors: [`RecipientError::Org`] or [`RecipientError::NationalId`] for a number that
    /// fails its length or control-digit check.
    pub fn parse(input: &str) -> Result<Self, RecipientError> {
        let s = input.trim().to_ascii_lowercase();
        if let Some(org) = s.strip_prefix(ORG_URN).or_else(|| s.strip_prefix("0192:")) {
            return Ok(Party::Organization(
                OrgNumber::parse(org).map_err(RecipientError::Org)?,
            ));
        }
        let person = s.strip_prefix(PERSON_URN).unwrap_or(&s);
        match person.len() {
            9 => Ok(Party::Organization(
                OrgNumber::parse(person).map_err(RecipientError::Org)?,
            )),
            _ => Ok(Party::Person(
                NationalId::parse(person).map_err(RecipientError::NationalId)?,
            )),
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.urn())
    }
}

/// A recipient of a letter in normalised form: the party the letter is for, parsed from one of
/// the forms a sender may write (reference §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Recipient(Party);

/// Why a recipient was refused; the messages are the ones Altinn's validation answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipientError {
    /// Blank.
    #[error("Recipients can not be empty")]
    Empty,
    /// None of the forms of reference §5.2.
    #[error(
        "Recipient should be an organization number in the form 'urn:altinn:organization:identifier-no:{{orgnr}}' or '0192:{{orgnr}}', or a national identity number"
    )]
    Format,
    /// An organisation form whose number fails its check.
    #[error("The given Recipient organization number is not valid: {0}")]
    Org(IdentifierError),
    /// A person form whose number fails its check.
    #[error("The given Recipient national identity number is not valid")]
    NationalId(IdentifierError),
    /// An ID-porten e-mail URN whose address fails the simple rule.
    #[error("The given Recipient email address is not valid")]
    Email,
}

impl Recipient {
    /// Parses one entry of a letter's `recipients` list (§5.2) into its normalised form (§5.1):
    /// an organisation URN or `0192:<orgnr>`, a national identity number with or without its
    /// URN, or a self-identified user's URN; any case, white space around ignored.
    ///
    /// Errors: [`RecipientError::Empty`] for a blank entry, [`RecipientError::Format`] for
    /// none of those forms, and the number's or address's own error otherwise.
    pub fn parse(input: &str) -> Result<Self, RecipientError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(RecipientError::Empty);
        }
        let s = trimmed.to_ascii_lowercase();
        if let Some(user) = SelfIdentified::from_urn(&s) {
            return user.map(|u| Recipient(Party::SelfIdentified(u)));
        }
        if let Some(org) = s.strip_prefix(ORG_URN).or_else(|| s.strip_prefix("0192:")) {
            if org.len() != 9 || !org.bytes().all(|b| b.is_ascii_digit()) {
                return Err(RecipientError::Format);
            }
            return OrgNumber::parse(org)
                .map(|o| Recipient(Party::Organization(o)))
                .map_err(RecipientError::Org);
        }
        let person = s.strip_prefix(PERSON_URN).unwrap_or(&s);
        if person.len() == 11 && person.bytes().all(|b| b.is_ascii_digit()) {
            return NationalId::parse(person)
                .map(|p| Recipient(Party::Person(p)))
                .map_err(RecipientError::NationalId);
        }
        Err(RecipientError::Format)
    }

    /// Rebuilds a recipient from its stored URN ([`Recipient::urn`]).
    ///
    /// Errors: as [`Recipient::parse`]; a stored URN always parses.
    pub fn from_urn(urn: &str) -> Result<Self, RecipientError> {
        Self::parse(urn)
    }

    /// The recipient's party URN, the form letters store.
    pub fn urn(&self) -> String {
        self.0.urn()
    }

    /// The party the letter is for.
    pub fn party(&self) -> &Party {
        &self.0
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.urn())
    }
}

/// Altinn's "simple" e-mail rule for ID-porten e-mail users: one `@` with text on both sides and
/// no `:`.
fn is_simple_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty()
    ) && !s.contains(':')
}

#[cfg(test)]
#[allow(clippy::items_after_test_module)]
mod tests {
    use super::*;

    #[test]
    fn organisation_forms_normalise_to_one_urn() {
        let want = "urn:altinn:organization:identifier-no:991825827";
        for input in [
            "0192:991825827",
            "urn:altinn:organization:identifier-no:991825827",
            "URN:ALTINN:ORGANIZATION:IDENTIFIER-NO:991825827",
            " 0192:991825827 ",
        ] {
            assert_eq!(Recipient::parse(input).unwrap().urn(), want, "{input}");
        }
    }

    #[test]
    fn bare_org_number_is_not_a_recipient_but_is_a_party() {
        assert_eq!(Recipient::parse("991825827"), Err(RecipientError::Format));
        assert_eq!(
            Party::parse("991825827").unwrap().urn(),
            "urn:altinn:organization:identifier-no:991825827"
        );
    }

    #[test]
    fn person_forms_normalise() {
        let want = "urn:altinn:person:identifier-no:08089403198";
        assert_eq!(Recipient::parse("08089403198").unwrap().urn(), want);
        assert_eq!(Recipient::parse(want).unwrap().urn(), want);
        assert!(matches!(
            Recipient::parse("08089403199"),
            Err(RecipientError::NationalId(_))
        ));
    }

    #[test]
    fn bad_org_number_control_digit_is_refused() {
        assert!(matches!(
            Recipient::parse("0192:991825828"),
            Err(RecipientError::Org(_))
        ));
    }

    #[test]
    fn email_and_self_identified() {
        assert_eq!(
            Recipient::parse("urn:altinn:person:idporten-email:Kari@Example.no")
                .unwrap()
                .urn(),
            "urn:altinn:person:idporten-email:kari@example.no"
        );
        assert_eq!(
            Recipient::parse("urn:altinn:person:idporten-email:no-at-sign"),
            Err(RecipientError::Email)
        );
        assert_eq!(
            Recipient::parse("urn:altinn:person:idporten-email:a@b@c"),
            Err(RecipientError::Email)
        );
        assert!(Recipient::parse("urn:altinn:person:legacy-selfidentified:kari").is_ok());
        assert_eq!(
            Recipient::parse("urn:altinn:person:legacy-selfidentified:a:b"),
            Err(RecipientError::Format)
        );
        assert_eq!(
            Recipient::parse("urn:altinn:person:legacy-selfidentified:"),
            Err(RecipientError::Format)
        );
    }

    #[test]
    fn self_identified_users_are_parties() {
        let kari = Recipient::parse("URN:ALTINN:PERSON:IDPORTEN-EMAIL:Kari@Example.no").unwrap();
        assert_eq!(
            kari.party(),
            &Party::SelfIdentified(SelfIdentified::IdportenEmail("kari@example.no".into()))
        );
        assert_eq!(
            kari.party(),
            &Party::SelfIdentified(SelfIdentified::idporten_email(" KARI@example.no").unwrap())
        );
        let ola = Recipient::parse("urn:altinn:person:legacy-selfidentified:OlaN").unwrap();
        assert_eq!(
            ola.party().urn(),
            "urn:altinn:person:legacy-selfidentified:olan"
        );
        assert_eq!(
            SelfIdentified::from_urn("urn:altinn:person:legacy-selfidentified:olan"),
            Some(Ok(SelfIdentified::Legacy("olan".into())))
        );
        assert_eq!(SelfIdentified::from_urn(PERSON_URN), None);
        assert_eq!(
            SelfIdentified::idporten_email("a:b@c.no"),
            Err(RecipientError::Email)
        );
        assert_eq!(SelfIdentified::legacy(" "), Err(RecipientError::Format));
    }

    #[test]
    fn junk_is_refused() {
        for s in [
            "",
            "  ",
            "hello",
            "0192:12345",
            "1234567890",
            "urn:altinn:party:1",
        ] {
            assert!(Recipient::parse(s).is_err(), "{s}");
        }
        assert_eq!(Recipient::parse(" "), Err(RecipientError::Empty));
    }
}

/// A party is stored and sent as its URN ([`Party::urn`]).
impl serde::Serialize for Party {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.urn())
    }
}

/// A party is read from any URN [`Recipient::from_urn`] accepts.
impl<'de> serde::Deserialize<'de> for Party {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let urn = String::deserialize(d)?;
        Recipient::from_urn(&urn)
            .map(|r| r.party().clone())
            .map_err(serde::de::Error::custom)
    }
}
