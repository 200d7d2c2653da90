//! The test SMS channel: messages kept in memory for assertions.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{SmsMessage, SmsReceipt, SmsSender, count_segments};
use crate::error::SendError;

/// One SMS the [`CapturingSmsSender`] took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedSms {
    /// The message as handed to the sender.
    pub message: SmsMessage,
    /// The reference it was given (`capture-<n>`, counting from 1).
    pub gateway_reference: String,
}

/// Keeps every SMS in memory, for tests of code that sends SMS. Failures can be scripted with
/// [`CapturingSmsSender::fail_next`]: each send first takes the oldest scripted failure, if
/// any, and returns it without capturing.
#[derive(Debug, Default)]
pub struct CapturingSmsSender {
    sent: Mutex<Vec<CapturedSms>>,
    failures: Mutex<VecDeque<SendError>>,
}

impl CapturingSmsSender {
    /// An empty sender.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes a coming send fail with `error` (failures are used in the order given).
    pub fn fail_next(&self, error: SendError) {
        self.failures.lock().expect("capture lock").push_back(error);
    }

    /// The messages taken so far, oldest first.
    pub fn sent(&self) -> Vec<CapturedSms> {
        self.sent.lock().expect("capture lock").clone()
    }
}

#[async_trait]
impl SmsSender for CapturingSmsSender {
    async fn send(&self, message: &SmsMessage) -> Result<SmsReceipt, SendError> {
        if let Some(error) = self.failures.lock().expect("capture lock").pop_front() {
            return Err(error);
        }
        let mut sent = self.sent.lock().expect("capture lock");
        let gateway_reference = format!("capture-{}", sent.len() + 1);
        sent.push(CapturedSms {
            message: message.clone(),
            gateway_reference: gateway_reference.clone(),
        });
        Ok(SmsReceipt {
            gateway_reference,
            segments: count_segments(&message.text),
        })
    }
}
