//! Integration tests of the Correspondence API through the real application on port 0.

mod attachments;
mod authorization;
mod compatibility;
mod confidential_reminders;
mod cors;
mod delivery_chain;
mod edges;
mod errors;
mod forwarding;
mod lifecycle;
mod notification_delivery;
mod notification_smtp;
mod notification_timing;
mod notifications;
mod openapi;
mod parties;
mod races;
mod repeats;
mod resources;
mod scanner;
mod search;
mod self_identified;
#[path = "../../../melding-delivery/tests/common/smtp_sink.rs"]
mod smtp_sink;
mod support;
mod wire;
mod wire_attachments;
