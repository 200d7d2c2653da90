//! Integration tests of the Correspondence API through the real application on port 0.

mod attachments;
mod authorization;
mod cors;
mod errors;
mod lifecycle;
mod openapi;
mod parties;
mod search;
mod support;
mod wire;
mod wire_attachments;
