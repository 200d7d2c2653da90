//! The dev SMS channel: every message is written as a JSON file that a person can read.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::Serialize;

use super::{SmsMessage, SmsReceipt, SmsSender, count_segments};
use crate::error::SendError;

/// Writes each SMS to `<dir>/<uuid>.json` as
/// `{"gatewayReference", "reference", "sender", "to", "text", "timeToLiveSeconds", "segments",
/// "encoding"}`, written under a temporary name and renamed. The file name (a UUIDv7, so files
/// sort by time) is the gateway reference. Meant for development and demos.
#[derive(Debug, Clone)]
pub struct FileDropSmsSender {
    dir: PathBuf,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    gateway_reference: &'a str,
    reference: &'a str,
    sender: &'a str,
    to: &'a str,
    text: &'a str,
    time_to_live_seconds: u64,
    segments: usize,
    encoding: String,
}

impl FileDropSmsSender {
    /// A sender writing into `dir` (created on first send if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileDropSmsSender { dir: dir.into() }
    }

    /// The directory the files go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl SmsSender for FileDropSmsSender {
    /// Errors: [`SendError::Transient`] when the file cannot be written.
    async fn send(&self, message: &SmsMessage) -> Result<SmsReceipt, SendError> {
        let segments = count_segments(&message.text);
        let gateway_reference = uuid::Uuid::now_v7().to_string();
        let record = Record {
            gateway_reference: &gateway_reference,
            reference: &message.reference,
            sender: message.sender.as_str(),
            to: message.to.as_str(),
            text: &message.text,
            time_to_live_seconds: message.time_to_live.as_secs(),
            segments: segments.segments,
            encoding: format!("{:?}", segments.encoding),
        };
        let json = serde_json::to_vec_pretty(&record)
            .map_err(|e| SendError::transient(format!("encode SMS file: {e}")))?;
        let path = self.dir.join(format!("{gateway_reference}.json"));
        crate::write_file_atomically(&self.dir, &path, &json).await?;
        Ok(SmsReceipt {
            gateway_reference,
            segments,
        })
    }
}
