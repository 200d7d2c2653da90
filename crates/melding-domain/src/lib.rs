//! Melding's domain: the vocabulary of digital post and the rules that hold whatever stores or
//! serves it. Nothing here performs I/O or reads the wall clock; time arrives through [`Clock`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attachment;
pub mod authz;
pub mod calendar;
pub mod clock;
pub mod contact;
pub mod content;
pub mod correspondence;
pub mod delivery;
pub mod forwarding;
pub mod holidays;
pub mod identifiers;
pub mod ids;
pub mod notification;
pub mod print_deadline;
pub mod recipient;
pub mod resource;
pub mod retention;
pub mod size;
pub mod status;

pub use attachment::{Attachment, AttachmentStatus, AttachmentStatusEntry};
pub use calendar::{BusinessCalendar, CalendarError};
pub use clock::{Clock, SimulatedClock};
pub use contact::{ContactError, EmailAddress, MobileNumber};
pub use delivery::{DeliveryEvent, ReceiptStatus};
pub use holidays::PublicHoliday;
pub use identifiers::{NationalId, OrgNumber};
pub use ids::{AttachmentId, CorrespondenceId, ForwardingEventId};
pub use print_deadline::PrintDeadlineRule;
pub use recipient::{Party, Recipient, SelfIdentified};
pub use resource::{ResourceId, ResourceType};
pub use retention::{RetentionError, RetentionPeriod};
pub use size::ByteSize;
pub use status::{CorrespondenceStatus, StatusEntry, StatusHistory};
