//! What kind of resource a letter is sent with, and the rules that follow from it. Altinn's
//! Resource Registry gives every resource a type and the minimum authentication level its policy
//! demands (reference §12); the Correspondence API sends letters only with correspondence
//! services (4010), keeps shared attachments for correspondence services and generic access
//! resources (4009), and refuses `allowForwarding` when the level is above 0 (1068)
//! (reference §4.1, §4.14).

use std::fmt;
use std::str::FromStr;

use crate::content::char_len;

/// The prefix a resource id may carry on the wire (`urn:altinn:resource:kommunepost`); it is
/// not part of the id (reference §3.1, `resourceId`).
pub const RESOURCE_URN: &str = "urn:altinn:resource:";

/// The longest resource id, in characters (reference §3.1).
pub const RESOURCE_ID_MAX: usize = 255;

/// The id of a resource in the Resource Registry (`kommunepost`): 1–[`RESOURCE_ID_MAX`]
/// characters without `:`, held without the optional [`RESOURCE_URN`] prefix (reference §3.1).
///
/// [`ResourceId::parse`] is the only way in, so the prefix is stripped in one place: every id a
/// request names, and every id Melding stores, is the bare form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(String);

/// Why a resource id was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResourceIdError {
    /// Nothing but white space was given (the model's "field is required").
    #[error("a resource id is required")]
    Empty,
    /// Empty after the prefix, longer than [`RESOURCE_ID_MAX`] characters, or holding a `:`.
    #[error("a resource id is 1–255 characters without ':' after an optional prefix")]
    Format,
}

impl ResourceId {
    /// Reads a resource id as a sender writes it: white space around it is ignored, then an
    /// optional `urn:altinn:resource:` prefix (exactly that case) is stripped.
    ///
    /// Errors: [`ResourceIdError::Empty`] for a blank value; [`ResourceIdError::Format`] when
    /// what remains is empty, longer than [`RESOURCE_ID_MAX`] characters or holds a `:`.
    pub fn parse(input: &str) -> Result<Self, ResourceIdError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ResourceIdError::Empty);
        }
        let id = trimmed.strip_prefix(RESOURCE_URN).unwrap_or(trimmed);
        if id.is_empty() || id.contains(':') || char_len(id) > RESOURCE_ID_MAX {
            return Err(ResourceIdError::Format);
        }
        Ok(Self(id.to_owned()))
    }

    /// The bare id, as stored and shown on the wire (`kommunepost`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a URN, `urn:altinn:resource:kommunepost`, the form authorization speaks.
    pub fn urn(&self) -> String {
        format!("{RESOURCE_URN}{}", self.0)
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ResourceId {
    type Err = ResourceIdError;

    /// Same as [`ResourceId::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The type of a resource in the Resource Registry (reference §12, issue 11 item 3). Its
/// name on the wire and in registry files is the variant's name, e.g. `CorrespondenceService`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ResourceType {
    /// A letter type of the Correspondence API: the only type letters are sent with.
    #[default]
    CorrespondenceService,
    /// A resource guarding access to something outside Altinn; shared attachments may belong
    /// to one.
    GenericAccessResource,
    /// A file transfer service of Altinn's broker.
    BrokerService,
    /// An Altinn app; a letter may name one only as a Dialogporten transmission.
    AltinnApp,
}

impl ResourceType {
    /// Every type, in the order the registry documents them.
    pub const ALL: [ResourceType; 4] = [
        ResourceType::CorrespondenceService,
        ResourceType::GenericAccessResource,
        ResourceType::BrokerService,
        ResourceType::AltinnApp,
    ];

    /// The registry's name of the type, e.g. `CorrespondenceService`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResourceType::CorrespondenceService => "CorrespondenceService",
            ResourceType::GenericAccessResource => "GenericAccessResource",
            ResourceType::BrokerService => "BrokerService",
            ResourceType::AltinnApp => "AltinnApp",
        }
    }

    /// May a letter be initialized with a resource of this type (4010)? A correspondence
    /// service always; an Altinn app only for a transmission, that is a letter naming an
    /// existing Dialogporten dialog (reference §4.1 and the text of 4010).
    pub fn allows_correspondence(&self, transmission: bool) -> bool {
        match self {
            ResourceType::CorrespondenceService => true,
            ResourceType::AltinnApp => transmission,
            ResourceType::GenericAccessResource | ResourceType::BrokerService => false,
        }
    }

    /// May a shared attachment be initialized with a resource of this type (4009)? Correspondence
    /// services and generic access resources (reference §4.14).
    pub fn allows_attachment(&self) -> bool {
        matches!(
            self,
            ResourceType::CorrespondenceService | ResourceType::GenericAccessResource
        )
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`ResourceType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown resource type {0:?} (known: CorrespondenceService, GenericAccessResource, BrokerService, AltinnApp)"
)]
pub struct UnknownResourceType(pub String);

impl FromStr for ResourceType {
    type Err = UnknownResourceType;

    /// The registry's name, in any case (enum names are case-insensitive on Altinn's wire,
    /// reference §0).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        ResourceType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownResourceType(s.to_owned()))
    }
}

/// The highest authentication level Altinn knows (levels 0–4; 0 means no login requirement).
pub const MAX_AUTHENTICATION_LEVEL: u8 = 4;

/// The minimum authentication level a resource's policy demands, 0–[`MAX_AUTHENTICATION_LEVEL`].
///
/// Errors: a level above [`MAX_AUTHENTICATION_LEVEL`] is refused with the reason.
pub fn check_authentication_level(level: i64) -> Result<u8, String> {
    u8::try_from(level)
        .ok()
        .filter(|l| *l <= MAX_AUTHENTICATION_LEVEL)
        .ok_or_else(|| {
            format!("{level} is not an authentication level (0 to {MAX_AUTHENTICATION_LEVEL})")
        })
}

/// May a letter with this resource's minimum authentication level allow forwarding (1068)?
/// Only when the level is 0: a forwarded copy leaves the login the resource demands
/// (reference §4.1).
pub fn allows_forwarding(minimum_authentication_level: u8) -> bool {
    minimum_authentication_level == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_lose_their_prefix_and_white_space() {
        for input in [
            "kommunepost",
            "urn:altinn:resource:kommunepost",
            "  urn:altinn:resource:kommunepost ",
            " kommunepost\t",
        ] {
            let id = ResourceId::parse(input).unwrap();
            assert_eq!(id.as_str(), "kommunepost", "{input:?}");
            assert_eq!(id.to_string(), "kommunepost");
            assert_eq!(id.urn(), "urn:altinn:resource:kommunepost");
        }
        assert_eq!("skatt-vedtak".parse(), ResourceId::parse("skatt-vedtak"));
    }

    #[test]
    fn resource_ids_are_one_to_255_characters_without_colons() {
        assert_eq!(ResourceId::parse(""), Err(ResourceIdError::Empty));
        assert_eq!(ResourceId::parse("   "), Err(ResourceIdError::Empty));
        assert_eq!(
            ResourceId::parse("urn:altinn:resource:"),
            Err(ResourceIdError::Format)
        );
        assert_eq!(ResourceId::parse("a:b"), Err(ResourceIdError::Format));
        // The prefix is stripped in exactly its own case; another case leaves colons behind.
        assert_eq!(
            ResourceId::parse("URN:ALTINN:RESOURCE:kommunepost"),
            Err(ResourceIdError::Format)
        );
        assert_eq!(
            ResourceId::parse("urn:altinn:resource:a:b"),
            Err(ResourceIdError::Format)
        );
        let longest = "æ".repeat(RESOURCE_ID_MAX);
        assert!(ResourceId::parse(&longest).is_ok());
        assert!(ResourceId::parse(&format!("{RESOURCE_URN}{longest}")).is_ok());
        assert_eq!(
            ResourceId::parse(&format!("{longest}x")),
            Err(ResourceIdError::Format)
        );
    }

    #[test]
    fn names_round_trip_in_any_case() {
        for t in ResourceType::ALL {
            assert_eq!(t.as_str().parse::<ResourceType>(), Ok(t));
            assert_eq!(t.as_str().to_lowercase().parse::<ResourceType>(), Ok(t));
        }
        assert_eq!(
            " correspondenceservice ".parse(),
            Ok(ResourceType::CorrespondenceService)
        );
        assert!("Correspondence".parse::<ResourceType>().is_err());
        assert!("".parse::<ResourceType>().is_err());
        assert_eq!(ResourceType::default(), ResourceType::CorrespondenceService);
    }

    #[test]
    fn letters_need_a_correspondence_service_or_an_app_for_a_transmission() {
        use ResourceType as T;
        assert!(T::CorrespondenceService.allows_correspondence(false));
        assert!(T::AltinnApp.allows_correspondence(true));
        assert!(!T::AltinnApp.allows_correspondence(false));
        assert!(!T::GenericAccessResource.allows_correspondence(true));
        assert!(!T::BrokerService.allows_correspondence(false));
    }

    #[test]
    fn attachments_take_correspondence_services_and_generic_access_resources() {
        use ResourceType as T;
        assert!(T::CorrespondenceService.allows_attachment());
        assert!(T::GenericAccessResource.allows_attachment());
        assert!(!T::BrokerService.allows_attachment());
        assert!(!T::AltinnApp.allows_attachment());
    }

    #[test]
    fn authentication_levels_are_zero_to_four() {
        assert_eq!(check_authentication_level(0), Ok(0));
        assert_eq!(check_authentication_level(4), Ok(4));
        assert!(check_authentication_level(5).is_err());
        assert!(check_authentication_level(-1).is_err());
        assert!(allows_forwarding(0));
        assert!(!allows_forwarding(3));
    }
}
