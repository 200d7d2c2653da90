//! Integration tests of the Correspondence API through the real application on port 0.

mod attachments;
mod authorization;
mod errors;
mod lifecycle;
mod parties;
mod resources;
mod search;
mod self_identified;
mod support;
mod wire;
