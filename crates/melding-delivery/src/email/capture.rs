//! The test e-mail channel: messages kept in memory for assertions.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{EmailMessage, EmailReceipt, EmailSender, build_message, message_id_for};
use crate::error::SendError;

/// One message the [`CapturingEmailSender`] took.
#[derive(Debug, Clone)]
pub struct CapturedEmail {
    /// The message as handed to the sender.
    pub message: EmailMessage,
    /// The `Message-ID` it was given.
    pub message_id: String,
    /// The full MIME text, as SMTP would have carried it.
    pub raw: String,
}

/// Keeps every message in memory, for tests of code that sends e-mail. Failures can be
/// scripted with [`CapturingEmailSender::fail_next`]: each send first takes the oldest scripted
/// failure, if any, and returns it without capturing.
#[derive(Debug, Default)]
pub struct CapturingEmailSender {
    sent: Mutex<Vec<CapturedEmail>>,
    failures: Mutex<VecDeque<SendError>>,
}

impl CapturingEmailSender {
    /// An empty sender.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes a coming send fail with `error` (failures are used in the order given).
    pub fn fail_next(&self, error: SendError) {
        self.failures.lock().expect("capture lock").push_back(error);
    }

    /// The messages taken so far, oldest first.
    pub fn sent(&self) -> Vec<CapturedEmail> {
        self.sent.lock().expect("capture lock").clone()
    }
}

#[async_trait]
impl EmailSender for CapturingEmailSender {
    async fn send(&self, message: &EmailMessage) -> Result<EmailReceipt, SendError> {
        if let Some(error) = self.failures.lock().expect("capture lock").pop_front() {
            return Err(error);
        }
        let message_id = message_id_for(message, "melding.test");
        let raw =
            String::from_utf8_lossy(&build_message(message, &message_id)?.formatted()).into_owned();
        let mut sent = self.sent.lock().expect("capture lock");
        sent.push(CapturedEmail {
            message: message.clone(),
            message_id: message_id.clone(),
            raw,
        });
        Ok(EmailReceipt {
            message_id,
            server_reply: format!("captured as message {}", sent.len()),
            queue_id: Some(sent.len().to_string()),
        })
    }
}
