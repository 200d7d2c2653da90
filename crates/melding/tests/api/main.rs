//! Integration tests of the Correspondence API through the real application on port 0.

mod attachments;
mod authorization;
mod errors;
mod lifecycle;
mod parties;
mod search;
mod support;
mod wire;
mod wire_attachments;
