//! The wire shapes of the Correspondence API v1, as Altinn defines them: camelCase JSON on
//! output, case-insensitive property names on input, enums as PascalCase names (input also by
//! number), times as ISO-8601 with `+00:00`.
//!
//! These types are for the wire only; storage has its own rows and the domain its own models.
#![forbid(unsafe_code)]

pub mod attachment;
mod check;
pub mod correspondence;
pub mod form;
pub mod forwarding;
pub mod input;
pub mod notification;
pub mod problem;
pub mod receipts;
pub mod time;

pub use problem::{ErrorCode, FieldError, ProblemDetails, ValidationProblem};
