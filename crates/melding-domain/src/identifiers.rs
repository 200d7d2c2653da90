//! Norwegian identifiers: the national identity number (fødselsnummer, D-number, synthetic test
//! numbers) and the organisation number. Both carry mod-11 control digits; holding a value of
//! these types means the digits were checked.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// Not exactly this many ASCII digits.
    #[error("must be exactly {0} digits")]
    Length(usize),
    /// The mod-11 control digits do not match.
    #[error("control digits do not match")]
    ControlDigit,
}

fn digits<const N: usize>(s: &str) -> Result<[u32; N], IdentifierError> {
    if s.len() != N || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdentifierError::Length(N));
    }
    let mut out = [0u32; N];
    for (slot, b) in out.iter_mut().zip(s.bytes()) {
        *slot = u32::from(b - b'0');
    }
    Ok(out)
}

/// `11 − (Σ dᵢ·wᵢ mod 11)`, with 11 → 0; `None` for 10, which no valid number carries.
fn mod11(digits: &[u32], weights: &[u32]) -> Option<u32> {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        k => Some(k),
    }
}

/// What a national identity number's date part says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NationalIdKind {
    /// An ordinary fødselsnummer.
    BirthNumber,
    /// A D-number: day + 40, given to people without a birth number.
    DNumber,
}

/// An 11-digit Norwegian national identity number (fødselsnummer or D-number), both mod-11
/// control digits verified. Synthetic test numbers (month + 40 or + 80) are accepted, as Altinn
/// accepts them: the date part is not checked.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NationalId(String);

impl NationalId {
    const K1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
    const K2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

    /// Reads 11 digits and checks both control digits.
    ///
    /// Errors: [`IdentifierError::Length`] unless exactly 11 ASCII digits;
    /// [`IdentifierError::ControlDigit`] when a control digit does not match.
    pub fn parse(s: &str) -> Result<Self, IdentifierError> {
        let d = digits::<11>(s)?;
        let k1 = mod11(&d[..9], &Self::K1).ok_or(IdentifierError::ControlDigit)?;
        let k2 = mod11(&d[..10], &Self::K2).ok_or(IdentifierError::ControlDigit)?;
        if k1 != d[9] || k2 != d[10] {
            return Err(IdentifierError::ControlDigit);
        }
        Ok(Self(s.to_owned()))
    }

    /// The 11 digits. Personal data: do not log.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A birth number or a D-number (first digit 4 or more).
    pub fn kind(&self) -> NationalIdKind {
        if self.0.as_bytes()[0] >= b'4' {
            NationalIdKind::DNumber
        } else {
            NationalIdKind::BirthNumber
        }
    }

    /// True for test numbers from NAV (month + 40) or Skatteetaten's Tenor (month + 80).
    pub fn is_synthetic(&self) -> bool {
        self.0.as_bytes()[2] >= b'4'
    }
}

impl fmt::Debug for NationalId {
    // National ids are personal data: never print one whole in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId({}*****)", &self.0[..6])
    }
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for NationalId {
    type Error = IdentifierError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<NationalId> for String {
    fn from(id: NationalId) -> Self {
        id.0
    }
}

/// A 9-digit organisation number from Enhetsregisteret, mod-11 verified (a deliberate deviation:
/// Altinn does not check the control digit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgNumber(String);

impl OrgNumber {
    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

    /// Reads 9 digits and checks the control digit.
    ///
    /// Errors: [`IdentifierError::Length`] unless exactly 9 ASCII digits;
    /// [`IdentifierError::ControlDigit`] when the control digit does not match.
    pub fn parse(s: &str) -> Result<Self, IdentifierError> {
        let d = digits::<9>(s)?;
        match mod11(&d[..8], &Self::WEIGHTS) {
            Some(k) if k == d[8] => Ok(Self(s.to_owned())),
            _ => Err(IdentifierError::ControlDigit),
        }
    }

    /// The 9 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OrgNumber {
    type Error = IdentifierError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OrgNumber> for String {
    fn from(o: OrgNumber) -> Self {
        o.0
    }
}

pub mod synthetic;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_national_ids() {
        for n in [
            "21866699620",
            "26832047936",
            "09866598352",
            "29886896598",
            "08844397713",
            "70885100226",
            "06068700602",
            "20914695016",
            "01010150740",
            "08089403198",
        ] {
            assert!(NationalId::parse(n).is_ok(), "{n} should be valid");
        }
    }

    #[test]
    fn invalid_national_ids() {
        assert_eq!(
            NationalId::parse("21866699621"),
            Err(IdentifierError::ControlDigit)
        );
        assert_eq!(
            NationalId::parse("21866699630"),
            Err(IdentifierError::ControlDigit)
        );
        assert_eq!(
            NationalId::parse("2186669962"),
            Err(IdentifierError::Length(11))
        );
        assert_eq!(
            NationalId::parse("2186669962a"),
            Err(IdentifierError::Length(11))
        );
        assert_eq!(
            NationalId::parse("218666996200"),
            Err(IdentifierError::Length(11))
        );
        assert!(NationalId::parse("").is_err());
    }

    #[test]
    fn a_k1_of_ten_is_never_valid() {
        // 000000000 + anything: find a 9-digit prefix whose K1 would be 10 and check rejection.
        let prefix = (0..1_000_000u32)
            .map(|n| format!("{n:09}"))
            .find(|p| {
                let d: Vec<u32> = p.bytes().map(|b| u32::from(b - b'0')).collect();
                mod11(&d, &NationalId::K1).is_none()
            })
            .unwrap();
        for tail in 0..100 {
            assert!(NationalId::parse(&format!("{prefix}{tail:02}")).is_err());
        }
    }

    #[test]
    fn d_numbers_and_synthetic_numbers_are_recognised() {
        let d = NationalId::parse("70885100226").unwrap();
        assert_eq!(d.kind(), NationalIdKind::DNumber);
        assert!(d.is_synthetic());
        let tenor = NationalId::parse("21866699620").unwrap();
        assert_eq!(tenor.kind(), NationalIdKind::BirthNumber);
        assert!(tenor.is_synthetic());
        let plain = NationalId::parse("01010150740").unwrap();
        assert!(!plain.is_synthetic());
    }

    #[test]
    fn national_id_debug_hides_the_personal_part() {
        let id = NationalId::parse("21866699620").unwrap();
        assert!(!format!("{id:?}").contains("99620"));
    }

    #[test]
    fn org_numbers() {
        for n in [
            "974760673",
            "991825827",
            "213779702",
            "310394955",
            "314138910",
        ] {
            assert!(OrgNumber::parse(n).is_ok(), "{n} should be valid");
        }
        assert_eq!(
            OrgNumber::parse("974760674"),
            Err(IdentifierError::ControlDigit)
        );
        assert_eq!(
            OrgNumber::parse("97476067"),
            Err(IdentifierError::Length(9))
        );
        assert_eq!(
            OrgNumber::parse("9747606730"),
            Err(IdentifierError::Length(9))
        );
    }
}
