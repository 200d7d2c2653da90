//! Melding's domain: the vocabulary of digital post and the rules that hold whatever stores or
//! serves it. Nothing here performs I/O or reads the wall clock; time arrives through [`Clock`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attachment;
pub mod authz;
pub mod clock;
pub mod content;
pub mod correspondence;
pub mod identifiers;
pub mod ids;
pub mod recipient;
pub mod resource;
pub mod size;
pub mod status;

pub use attachment::{Attachment, AttachmentStatus, AttachmentStatusEntry};
pub use clock::{Clock, SimulatedClock};
pub use identifiers::{NationalId, OrgNumber};
pub use ids::{AttachmentId, CorrespondenceId};
pub use recipient::{Party, Recipient, SelfIdentified};
pub use resource::{ResourceId, ResourceType};
pub use size::ByteSize;
pub use status::{CorrespondenceStatus, StatusEntry, StatusHistory};
