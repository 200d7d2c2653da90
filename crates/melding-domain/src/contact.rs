//! Contact points: the e-mail addresses and mobile numbers that notifications go to.
//!
//! They exist as types so that a notification channel never receives an address it has to
//! doubt: [`EmailAddress::parse`] and [`MobileNumber::parse`] are the only ways in, and a
//! mobile number is held in E.164 form (`+4791234567`), the form KRR numbers are normalised to
//! before anything is sent (`reference/delivery-chain.md` §1.6 and §7.3).

use std::fmt;

/// An e-mail address a notification may be sent to, as given (case kept; the domain part is
/// compared case-insensitively by [`EmailAddress::same_mailbox`]).
///
/// The rule is Altinn's strict custom-recipient rule (`reference/correspondence-api.md` §8.1,
/// error 3011), written out here because the domain crate takes no parser dependency: one `@`;
/// a local part of 1–64 characters from letters (including æøå and other Unicode letters),
/// digits and ``!#$%&'*+-/=?^_`{|}~.``, not starting or ending with `.` and without `..`; a
/// domain of dot-separated labels of letters, digits and `-` (no label starting or ending with
/// `-`) whose last label is 2–14 letters, or an IPv4 literal in brackets; at most 254
/// characters in all; no `;`, no spaces, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses an address after trimming surrounding white space.
    ///
    /// Errors: [`ContactError::Email`] when the text breaks the rule in the type's docs.
    pub fn parse(s: &str) -> Result<Self, ContactError> {
        let s = s.trim();
        if s.chars().count() > 254 {
            return Err(ContactError::Email);
        }
        if has_address_shape(s) {
            Ok(EmailAddress(s.to_owned()))
        } else {
            Err(ContactError::Email)
        }
    }

    /// The address as given, e.g. `kari.nordmann@example.no`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`, e.g. `example.no`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// Whether two addresses name the same mailbox the way Altinn deduplicates them
    /// (case-insensitively, `reference/delivery-chain.md` §1.6 "Dedup").
    pub fn same_mailbox(&self, other: &EmailAddress) -> bool {
        self.0.to_lowercase() == other.0.to_lowercase()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` (already trimmed) has the shape of [`EmailAddress`]'s rule, its 254-character
/// limit aside: one `@`, a valid local part and a valid domain. Forwarding checks the shape
/// before the length (3011 before 3027, reference §4.12).
pub(crate) fn has_address_shape(s: &str) -> bool {
    s.split_once('@')
        .is_some_and(|(local, domain)| valid_local_part(local) && valid_domain(domain))
}

fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";
    let len = local.chars().count();
    (1..=64).contains(&len)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || SPECIALS.contains(c))
}

fn valid_domain(domain: &str) -> bool {
    if let Some(ip) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        return ip.parse::<std::net::Ipv4Addr>().is_ok();
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((tld, rest)) = labels.split_last() else {
        return false;
    };
    let tld_len = tld.chars().count();
    !rest.is_empty()
        && (2..=14).contains(&tld_len)
        && tld.chars().all(char::is_alphabetic)
        && rest.iter().all(|label| {
            let len = label.chars().count();
            (1..=63).contains(&len)
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// A mobile number in E.164 form: `+`, a country code and the subscriber number, 8 to 15 digits
/// in all (ITU-T E.164 allows at most 15), e.g. `+4791234567`.
///
/// Normalisation follows Altinn Notifications' `MobileNumberHelper` as summarised in
/// `reference/delivery-chain.md` §1.6 and §7.3:
/// - spaces, `-`, `.` and parentheses between digits are dropped (numbers are often typed that
///   way; KRR itself delivers bare digits);
/// - `00CC…` becomes `+CC…`;
/// - an 8-digit number starting with 4 or 9 (the Norwegian mobile ranges) gets `+47`;
/// - any other number without `+` or `00` is rejected, as is `++`, a country code starting
///   with 0, and any letter.
///
/// Where Altinn then asks libphonenumber whether the number is valid, this type checks only the
/// one country it knows exactly: a `+47` number has 8 digits after the country code (Norway's
/// closed numbering plan). Numbers of other countries are accepted on their length alone, so a
/// well-formed but unassigned foreign number passes; the SMS gateway will reject it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MobileNumber(String);

impl MobileNumber {
    /// Parses and normalises a number to E.164, per the rules in the type's docs.
    ///
    /// Errors: [`ContactError::MobileNumber`] when the text is not a number by those rules.
    pub fn parse(s: &str) -> Result<Self, ContactError> {
        let compact: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
            .collect();
        let digits = if let Some(rest) = compact.strip_prefix('+') {
            rest.to_owned()
        } else if let Some(rest) = compact.strip_prefix("00") {
            rest.to_owned()
        } else if compact.len() == 8
            && (compact.starts_with('4') || compact.starts_with('9'))
            && compact.chars().all(|c| c.is_ascii_digit())
        {
            format!("47{compact}")
        } else {
            return Err(ContactError::MobileNumber);
        };
        let all_digits = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
        if !all_digits || digits.starts_with('0') || !(8..=15).contains(&digits.len()) {
            return Err(ContactError::MobileNumber);
        }
        if digits.starts_with("47") && digits.len() != 10 {
            return Err(ContactError::MobileNumber);
        }
        Ok(MobileNumber(format!("+{digits}")))
    }

    /// The number in E.164 form with the leading `+`, e.g. `+4791234567`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number without the `+` (an MSISDN, e.g. `4791234567`), the form the LINK Mobility
    /// (PSWin) gateway wants (`reference/delivery-chain.md` §7.2, rule 46).
    pub fn msisdn(&self) -> &str {
        &self.0[1..]
    }

    /// Whether the number is Norwegian (`+47`).
    pub fn is_norwegian(&self) -> bool {
        self.0.starts_with("+47")
    }
}

impl fmt::Display for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a contact point was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// The text is not an e-mail address by [`EmailAddress`]'s rule.
    #[error("not a valid e-mail address")]
    Email,
    /// The text is not a mobile number by [`MobileNumber`]'s rule.
    #[error("not a valid mobile number")]
    MobileNumber,
}

#[cfg(test)]
#[allow(clippy::items_after_test_module)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_normalise_to_e164() {
        let table = [
            // Norwegian numbers in the forms KRR and people write them.
            ("+4791234567", "+4791234567"),
            ("91234567", "+4791234567"),
            ("41234567", "+4741234567"),
            ("004791234567", "+4791234567"),
            ("+47 912 34 567", "+4791234567"),
            (" 912 34 567 ", "+4791234567"),
            ("+47-912-34-567", "+4791234567"),
            // Foreign numbers keep their country code.
            ("+46701234567", "+46701234567"),
            ("0046701234567", "+46701234567"),
            ("+4915123456789", "+4915123456789"),
            ("+1 (202) 555-0143", "+12025550143"),
            ("+442071234567", "+442071234567"),
        ];
        for (input, want) in table {
            let got = MobileNumber::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(got.as_str(), want, "{input:?}");
        }
    }

    #[test]
    fn invalid_mobile_numbers_are_refused() {
        for input in [
            "",
            "+",
            "++4791234567",
            "12345678",   // 8 digits, not a Norwegian mobile range
            "22334455",   // an Oslo landline without a country code
            "9123456",    // 7 digits
            "912345678",  // 9 digits without country code
            "+479123456", // +47 with 7 digits
            "+47912345678",
            "+0123456789",
            "00",
            "+47 9123456a",
            "tel:+4791234567",
            "+1234567",          // too short for E.164 with a country code
            "+1234567890123456", // 16 digits: longer than E.164 allows
        ] {
            assert_eq!(
                MobileNumber::parse(input),
                Err(ContactError::MobileNumber),
                "{input:?}"
            );
        }
    }

    /// Foreign numbers are judged by length only (see the type's docs): `00` + 91234567 is
    /// India (+91) with a short number, accepted because 8 digits is a possible E.164 length.
    #[test]
    fn foreign_numbers_are_judged_by_length_only() {
        assert_eq!(
            MobileNumber::parse("0091234567").unwrap().as_str(),
            "+91234567"
        );
    }

    #[test]
    fn msisdn_drops_the_plus() {
        let number = MobileNumber::parse("91234567").unwrap();
        assert_eq!(number.msisdn(), "4791234567");
        assert!(number.is_norwegian());
        assert!(!MobileNumber::parse("+46701234567").unwrap().is_norwegian());
    }

    #[test]
    fn email_addresses() {
        for ok in [
            "kari@example.no",
            "Kari.Nordmann@Example.NO",
            "kari+varsel@sub.example.no",
            "bjørn.ås@kommune.no",
            "post@tønsberg.kommune.no",
            "x@[127.0.0.1]",
            "o'brien@example.com",
            "  padded@example.no  ",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "kari",
            "@example.no",
            "kari@",
            "kari@example",
            "kari@example.n",
            "kari@example.abcdefghijklmno",
            "kari@example.123",
            "kari@@example.no",
            "ka ri@example.no",
            "kari;ola@example.no",
            ".kari@example.no",
            "kari.@example.no",
            "ka..ri@example.no",
            "kari@-example.no",
            "kari@example-.no",
            "kari@exa_mple.no",
            "kari@[300.0.0.1]",
            "kari@example..no",
        ] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(ContactError::Email),
                "{bad:?}"
            );
        }
        let long_local = format!("{}@example.no", "a".repeat(65));
        assert!(EmailAddress::parse(&long_local).is_err());
    }

    #[test]
    fn email_mailbox_comparison_ignores_case() {
        let a = EmailAddress::parse("Kari@Example.no").unwrap();
        let b = EmailAddress::parse("kari@example.NO").unwrap();
        assert!(a.same_mailbox(&b));
        assert_eq!(a.domain(), "Example.no");
        assert_eq!(a.to_string(), "Kari@Example.no");
    }
}

/// Stored and sent as the address text.
impl serde::Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Read through [`EmailAddress::parse`].
impl<'de> serde::Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        EmailAddress::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Stored and sent in E.164 form.
impl serde::Serialize for MobileNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Read through [`MobileNumber::parse`].
impl<'de> serde::Deserialize<'de> for MobileNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        MobileNumber::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
