//! Melding's domain: the vocabulary of digital post and the rules that hold whatever stores or
//! serves it. Nothing here performs I/O or reads the wall clock; time arrives through [`Clock`].
#![forbid(unsafe_code)]

pub mod attachment;
pub mod authz;
pub mod clock;
pub mod contact;
pub mod content;
pub mod correspondence;
pub mod identifiers;
pub mod ids;
pub mod recipient;
pub mod resource;
pub mod status;

pub use attachment::{Attachment, AttachmentStatus, AttachmentStatusEntry};
pub use clock::{Clock, SimulatedClock};
pub use contact::{ContactError, EmailAddress, MobileNumber};
pub use identifiers::{NationalId, OrgNumber};
pub use ids::{AttachmentId, CorrespondenceId};
pub use recipient::{Party, Recipient, SelfIdentified};
pub use resource::ResourceType;
pub use status::{CorrespondenceStatus, StatusEntry, StatusHistory};
