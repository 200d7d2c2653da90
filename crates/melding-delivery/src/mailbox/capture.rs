//! The test mailbox: letters kept in memory for assertions, statuses and failures scripted.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{DigitalMailbox, MailboxMessage, MailboxReference, MailboxStatus, MailboxSubmission};
use crate::error::{PermanentKind, SendError};

/// One letter the [`CapturingMailbox`] took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedMailboxMessage {
    /// The letter as handed to the mailbox.
    pub message: MailboxMessage,
}

/// Keeps every letter in memory, for tests of code that delivers to digital mailboxes.
///
/// A letter is `Delivered` as soon as it is taken unless a test says otherwise with
/// [`CapturingMailbox::set_status`]; a second delivery of the same reference is answered
/// `already_submitted` and not captured again, as a real provider would. Failures can be
/// scripted with [`CapturingMailbox::fail_next`]: each delivery first takes the oldest scripted
/// failure, if any, and returns it without capturing.
#[derive(Debug, Default)]
pub struct CapturingMailbox {
    sent: Mutex<Vec<CapturedMailboxMessage>>,
    statuses: Mutex<HashMap<MailboxReference, MailboxStatus>>,
    failures: Mutex<VecDeque<SendError>>,
}

impl CapturingMailbox {
    /// An empty mailbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes a coming delivery fail with `error` (failures are used in the order given).
    pub fn fail_next(&self, error: SendError) {
        self.failures.lock().expect("capture lock").push_back(error);
    }

    /// Sets what [`DigitalMailbox::delivery_status`] answers for `reference` from now on,
    /// whether or not the letter has been delivered yet.
    pub fn set_status(&self, reference: &MailboxReference, status: MailboxStatus) {
        self.statuses
            .lock()
            .expect("capture lock")
            .insert(reference.clone(), status);
    }

    /// The letters taken so far, oldest first.
    pub fn sent(&self) -> Vec<CapturedMailboxMessage> {
        self.sent.lock().expect("capture lock").clone()
    }
}

#[async_trait]
impl DigitalMailbox for CapturingMailbox {
    async fn deliver(&self, message: &MailboxMessage) -> Result<MailboxSubmission, SendError> {
        if let Some(error) = self.failures.lock().expect("capture lock").pop_front() {
            return Err(error);
        }
        let mut sent = self.sent.lock().expect("capture lock");
        let already_submitted = sent
            .iter()
            .any(|c| c.message.reference == message.reference);
        if !already_submitted {
            sent.push(CapturedMailboxMessage {
                message: message.clone(),
            });
        }
        let status = self
            .statuses
            .lock()
            .expect("capture lock")
            .entry(message.reference.clone())
            .or_insert(MailboxStatus::Delivered { at: None })
            .clone();
        Ok(MailboxSubmission {
            reference: message.reference.clone(),
            provider: message.provider,
            provider_reference: message.reference.to_string(),
            already_submitted,
            status,
        })
    }

    /// Errors: [`SendError::Permanent`] for a reference that was neither delivered nor given a
    /// status with [`CapturingMailbox::set_status`].
    async fn delivery_status(
        &self,
        reference: &MailboxReference,
    ) -> Result<MailboxStatus, SendError> {
        self.statuses
            .lock()
            .expect("capture lock")
            .get(reference)
            .cloned()
            .ok_or_else(|| {
                SendError::permanent(
                    PermanentKind::Rejected,
                    format!("no letter with reference {reference} was captured"),
                )
            })
    }
}
