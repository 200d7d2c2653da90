//! The rules an imported value must meet, shared by the JSON and CSV readers. Each returns the
//! value in its stored form (trimmed, normalised) or the reason it is refused; the reader adds
//! the file and the place.

use melding_domain::SelfIdentified;
use melding_domain::authz::KNOWN_ROLES;
use melding_domain::resource::{ResourceType, UnknownResourceType};
use melding_store::{KrrContact, MAX_ORG_CONTACTS, OrgContact, PostalAddress};

/// The digital mailbox providers KRR knows.
pub(super) const MAILBOX_PROVIDERS: &[&str] = &["digipost", "eboks"];

pub(super) fn name(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(s.to_owned())
}

pub(super) fn resource_id(s: &str) -> Result<String, String> {
    if s.trim().is_empty() || s.contains(':') || s.chars().count() > 255 {
        return Err("a resource id is 1–255 characters without ':'".into());
    }
    Ok(s.to_owned())
}

/// A resource type by its Resource Registry name, in any case (`CorrespondenceService`, …).
pub(super) fn resource_type(s: &str) -> Result<ResourceType, String> {
    s.parse().map_err(|e: UnknownResourceType| e.to_string())
}

/// Why a self-identified user without exactly one login is refused.
pub(super) const ONE_LOGIN: &str =
    "a self-identified user has exactly one login: an email or a username";

/// An ID-porten e-mail login: an e-mail address (one `@` with text on both sides, no white
/// space) that a recipient URN can carry (no `:`), lower-cased.
pub(super) fn self_identified_email(s: &str) -> Result<SelfIdentified, String> {
    let e = email(s)?;
    SelfIdentified::idporten_email(&e)
        .map_err(|_| format!("{e:?} cannot be an ID-porten e-mail login (no ':' allowed)"))
}

/// A legacy self-identified user name: not empty, no `:`, lower-cased.
pub(super) fn self_identified_username(s: &str) -> Result<SelfIdentified, String> {
    SelfIdentified::legacy(s)
        .map_err(|_| format!("{:?} is not a user name (not empty, no ':')", s.trim()))
}

pub(super) fn role(s: &str) -> Result<String, String> {
    let role = s.trim().to_ascii_uppercase();
    if !KNOWN_ROLES.contains(&role.as_str()) {
        return Err(format!(
            "unknown role {s:?} (known roles: {})",
            KNOWN_ROLES.join(", ")
        ));
    }
    Ok(role)
}

/// One `@` with text on both sides, and no white space.
pub(super) fn email(s: &str) -> Result<String, String> {
    let s = s.trim();
    let ok = match s.split_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !domain.contains('@'),
        None => false,
    };
    if !ok || s.chars().any(char::is_whitespace) {
        return Err(format!(
            "{s:?} is not an e-mail address (one '@' with text on both sides)"
        ));
    }
    Ok(s.to_owned())
}

/// A mobile number in E.164: eight digits starting with 4 or 9 are Norwegian (`+47`), `00`
/// starts an international number as `+` does. Spaces are ignored.
pub(super) fn mobile(s: &str) -> Result<String, String> {
    let compact: String = s.chars().filter(|c| *c != ' ').collect();
    let international = if let Some(rest) = compact.strip_prefix('+') {
        Some(rest)
    } else {
        compact.strip_prefix("00")
    };
    let digits = match international {
        Some(rest) => rest.to_owned(),
        None if compact.len() == 8 && (compact.starts_with('4') || compact.starts_with('9')) => {
            format!("47{compact}")
        }
        None => String::new(),
    };
    let valid = digits.bytes().all(|b| b.is_ascii_digit())
        && (8..=15).contains(&digits.len())
        && !digits.starts_with('0');
    if !valid {
        return Err(format!(
            "{s:?} is not a mobile number (8 digits starting with 4 or 9, or +/00 and the country code)"
        ));
    }
    Ok(format!("+{digits}"))
}

/// ISO 3166 alpha-2, in capitals.
pub(super) fn country(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!("{s:?} is not an ISO 3166 alpha-2 country code"));
    }
    Ok(s.to_ascii_uppercase())
}

pub(super) fn mailbox_provider(s: &str) -> Result<String, String> {
    let p = s.trim().to_ascii_lowercase();
    if !MAILBOX_PROVIDERS.contains(&p.as_str()) {
        return Err(format!(
            "unknown mailbox provider {s:?} (known: {})",
            MAILBOX_PROVIDERS.join(", ")
        ));
    }
    Ok(p)
}

/// A refusal inside a nested value: the field path below it (`postalCode`, `lines[1]`) and why.
pub(super) struct Invalid {
    pub at: String,
    pub reason: String,
}

fn at(at: impl Into<String>) -> impl FnOnce(String) -> Invalid {
    let at = at.into();
    move |reason| Invalid { at, reason }
}

/// A postal address: city and postal code required, a Norwegian postal code is four digits.
pub(super) fn address(a: PostalAddress) -> Result<PostalAddress, Invalid> {
    let mut lines = Vec::with_capacity(a.lines.len());
    for (i, l) in a.lines.iter().enumerate() {
        lines.push(name(l).map_err(at(format!("lines[{i}]")))?);
    }
    let country = a
        .country
        .as_deref()
        .map(country)
        .transpose()
        .map_err(at("country"))?;
    let postal_code = name(&a.postal_code).map_err(at("postalCode"))?;
    let norwegian = country.as_deref().is_none_or(|c| c == "NO");
    if norwegian && (postal_code.len() != 4 || !postal_code.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Invalid {
            at: "postalCode".into(),
            reason: format!("{postal_code:?} is not a Norwegian postal code (four digits)"),
        });
    }
    Ok(PostalAddress {
        lines,
        postal_code,
        city: name(&a.city).map_err(at("city"))?,
        country,
        protected: a.protected,
    })
}

/// A KRR entry: e-mail and mobile normalised, a mailbox as provider and address together.
pub(super) fn krr(k: KrrContact) -> Result<KrrContact, Invalid> {
    let email = k
        .email
        .as_deref()
        .map(email)
        .transpose()
        .map_err(at("email"))?;
    let mobile = k
        .mobile
        .as_deref()
        .map(mobile)
        .transpose()
        .map_err(at("mobile"))?;
    let provider = k
        .mailbox_provider
        .as_deref()
        .map(mailbox_provider)
        .transpose()
        .map_err(at("mailboxProvider"))?;
    let address = k
        .mailbox_address
        .as_deref()
        .map(name)
        .transpose()
        .map_err(at("mailboxAddress"))?;
    match (&provider, &address) {
        (Some(_), None) => {
            return Err(Invalid {
                at: "mailboxAddress".into(),
                reason: "a mailbox provider needs the address there".into(),
            });
        }
        (None, Some(_)) => {
            return Err(Invalid {
                at: "mailboxProvider".into(),
                reason: "a mailbox address needs its provider".into(),
            });
        }
        _ => {}
    }
    Ok(KrrContact {
        email,
        mobile,
        mailbox_provider: provider,
        mailbox_address: address,
        ..k
    })
}

/// An organisation's own contacts: at most [`MAX_ORG_CONTACTS`], each with an e-mail address or
/// a mobile number.
pub(super) fn contacts(contacts: Vec<OrgContact>) -> Result<Vec<OrgContact>, Invalid> {
    if contacts.len() > MAX_ORG_CONTACTS {
        return Err(Invalid {
            at: String::new(),
            reason: format!(
                "at most {MAX_ORG_CONTACTS} contacts, found {}",
                contacts.len()
            ),
        });
    }
    contacts
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            if c.email.is_none() && c.mobile.is_none() {
                return Err(Invalid {
                    at: format!("[{i}]"),
                    reason: "a contact needs an e-mail address or a mobile number".into(),
                });
            }
            let mut resources = Vec::with_capacity(c.resources.len());
            for (j, r) in c.resources.iter().enumerate() {
                resources.push(resource_id(r).map_err(at(format!("[{i}].resources[{j}]")))?);
            }
            Ok(OrgContact {
                person: c.person,
                email: c
                    .email
                    .as_deref()
                    .map(email)
                    .transpose()
                    .map_err(at(format!("[{i}].email")))?,
                mobile: c
                    .mobile
                    .as_deref()
                    .map(mobile)
                    .transpose()
                    .map_err(at(format!("[{i}].mobile")))?,
                resources,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_become_e164() {
        for (given, stored) in [
            ("99999999", "+4799999999"),
            ("41 23 45 67", "+4741234567"),
            ("+4799999999", "+4799999999"),
            ("+47 999 99 999", "+4799999999"),
            ("004799999999", "+4799999999"),
            ("0046701234567", "+46701234567"),
            ("+46701234567", "+46701234567"),
        ] {
            assert_eq!(mobile(given).as_deref(), Ok(stored), "{given}");
        }
        for bad in [
            "",
            "12345678",
            "9999999",
            "999999999",
            "+47abc",
            "+",
            "00",
            "+0123456789",
            "tel:99999999",
            "+1234567890123456",
        ] {
            assert!(mobile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_needs_one_at_with_text_on_both_sides() {
        assert_eq!(email(" kari@example.no ").as_deref(), Ok("kari@example.no"));
        for bad in [
            "",
            "kari",
            "@example.no",
            "kari@",
            "a@b@c",
            "kari nordmann@x.no",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn norwegian_postal_codes_are_four_digits() {
        let a = |code: &str, country: Option<&str>| PostalAddress {
            lines: vec!["Storgata 1".into()],
            postal_code: code.into(),
            city: "Oslo".into(),
            country: country.map(str::to_owned),
            protected: false,
        };
        assert!(address(a("0155", None)).is_ok());
        assert!(address(a("0155", Some("no"))).is_ok());
        assert_eq!(
            address(a("SE-111 22", Some("se")))
                .ok()
                .unwrap()
                .country
                .as_deref(),
            Some("SE")
        );
        assert_eq!(address(a("155", None)).err().unwrap().at, "postalCode");
        assert_eq!(address(a("0155", Some("NOR"))).err().unwrap().at, "country");
    }
}
