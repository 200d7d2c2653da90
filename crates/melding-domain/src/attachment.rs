//! Attachments: documents a sender uploads and links to one or more letters (reference §3.3, §5.5,
//! §7). An attachment is shared by every letter of the request that created it, and by letters
//! that name it later as an existing attachment. Its bytes live in blob storage under
//! [`StoredFile::storage_key`]; its status log lives here.

use chrono::{DateTime, Duration, Utc};

use crate::identifiers::OrgNumber;
use crate::ids::{AttachmentId, CorrespondenceId};
use crate::resource::ResourceId;
use crate::size::ByteSize;

/// The statuses of an attachment with Altinn's names and numbers (reference §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum AttachmentStatus {
    /// Created; its file has not arrived.
    Initialized = 0,
    /// The file arrived and waits for the malware scan.
    UploadProcessing = 1,
    /// Scanned (or published without a scan): letters may use it.
    Published = 2,
    /// Deleted by its sender, or with the last letter using it.
    Purged = 3,
    /// The upload or the scan failed.
    Failed = 4,
    /// Past its `expirationInDays`; its file is gone.
    Expired = 5,
}

impl AttachmentStatus {
    /// Every status, in number order.
    pub const ALL: [AttachmentStatus; 6] = [
        Self::Initialized,
        Self::UploadProcessing,
        Self::Published,
        Self::Purged,
        Self::Failed,
        Self::Expired,
    ];

    /// Altinn's number for the status (0–5).
    pub fn value(self) -> i32 {
        self as i32
    }

    /// The status with Altinn's number `v`; `None` for a number Altinn does not use.
    pub fn from_value(v: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| i64::from(s.value()) == v)
    }

    /// Altinn's name for the status, e.g. `UploadProcessing`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Initialized => "Initialized",
            Self::UploadProcessing => "UploadProcessing",
            Self::Published => "Published",
            Self::Purged => "Purged",
            Self::Failed => "Failed",
            Self::Expired => "Expired",
        }
    }
}

/// One entry of an attachment's status log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentStatusEntry {
    /// The status reached.
    pub status: AttachmentStatus,
    /// The `statusText` shown for it: the status's name unless a reason was given.
    pub text: String,
    /// When the status was reached (UTC).
    pub at: DateTime<Utc>,
}

impl AttachmentStatusEntry {
    /// An entry whose text is the status's name.
    pub fn new(status: AttachmentStatus, at: DateTime<Utc>) -> Self {
        Self {
            status,
            text: status.name().to_owned(),
            at,
        }
    }

    /// The same entry with `text` as its `statusText`.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }
}

/// Where the bytes live, as Altinn reports it (`dataLocationType`, reference §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataLocationType {
    /// Melding holds the file.
    AltinnCorrespondenceAttachment = 0,
    /// The sender keeps the file elsewhere.
    ExternalStorage = 1,
}

impl DataLocationType {
    /// Altinn's name for the location, e.g. `AltinnCorrespondenceAttachment`.
    pub fn name(self) -> &'static str {
        match self {
            Self::AltinnCorrespondenceAttachment => "AltinnCorrespondenceAttachment",
            Self::ExternalStorage => "ExternalStorage",
        }
    }

    /// The location with Altinn's output number `v` (0 or 1); `None` otherwise.
    pub fn from_value(v: i64) -> Option<Self> {
        match v {
            0 => Some(Self::AltinnCorrespondenceAttachment),
            1 => Some(Self::ExternalStorage),
            _ => None,
        }
    }

    /// The input value (`InitializeAttachmentDataLocationType`): New and ExistingCorrespondence
    /// attachments are stored by Melding, ExistingExternalStorage is reported as external.
    pub fn from_input(v: i64) -> Option<Self> {
        match v {
            0 | 1 => Some(Self::AltinnCorrespondenceAttachment),
            2 => Some(Self::ExternalStorage),
            _ => None,
        }
    }

    /// Parses the input enum by name (any case) or number.
    pub fn parse_input(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(n) = s.parse::<i64>() {
            return Self::from_input(n);
        }
        [
            ("NewCorrespondenceAttachment", 0),
            ("ExistingCorrespondenceAttachment", 1),
            ("ExistingExternalStorage", 2),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .and_then(|(_, v)| Self::from_input(v))
    }
}

/// The bytes once uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// The file's key in blob storage.
    pub storage_key: String,
    /// The file's length in bytes.
    pub size: u64,
    /// Lower-case hex MD5.
    pub checksum: String,
    /// The CRC-32 of the bytes, for the zip of all attachments.
    pub crc32: u32,
}

/// One attachment, with its status log (oldest first) and the letters it is linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The attachment's id (UUIDv7).
    pub id: AttachmentId,
    /// The resource it was initialized with, without the URN prefix.
    pub resource_id: ResourceId,
    /// The resource's owner, who sent it.
    pub sender: OrgNumber,
    /// The file name the sender gave, checked by [`check_file_name`].
    pub file_name: String,
    /// A name to show instead of the file name.
    pub display_name: Option<String>,
    /// Whether the sender says the file is encrypted.
    pub is_encrypted: bool,
    /// The checksum the sender gave, or the computed one once uploaded.
    pub checksum: Option<String>,
    /// The sender's own reference for it.
    pub senders_reference: String,
    /// Days the file is kept after the letter using it is published (at least
    /// [`MIN_EXPIRATION_DAYS`]); `None` keeps it as long as the letter.
    pub expiration_in_days: Option<i32>,
    /// Where the bytes live.
    pub data_location_type: DataLocationType,
    /// The uploaded file; `None` until it arrives.
    pub file: Option<StoredFile>,
    /// When it was initialized (UTC).
    pub created: DateTime<Utc>,
    /// The status log, oldest first.
    pub statuses: Vec<AttachmentStatusEntry>,
    /// The letters it is linked to.
    pub correspondence_ids: Vec<CorrespondenceId>,
}

impl Attachment {
    /// The sender as Altinn names it: `urn:altinn:organization:identifier-no:<orgnr>`.
    pub fn sender_urn(&self) -> String {
        format!("{}{}", crate::recipient::ORG_URN, self.sender)
    }

    /// The latest status by time (Altinn shows the latest, not the highest, for attachments);
    /// of entries written at the same instant, the last written.
    pub fn current(&self) -> Option<&AttachmentStatusEntry> {
        self.statuses.iter().max_by_key(|e| e.at)
    }

    /// The current status ([`Attachment::current`]); Initialized for an empty log.
    pub fn status(&self) -> AttachmentStatus {
        self.current()
            .map_or(AttachmentStatus::Initialized, |e| e.status)
    }

    /// Whether the attachment ever reached `status`.
    pub fn has_been(&self, status: AttachmentStatus) -> bool {
        self.statuses.iter().any(|e| e.status == status)
    }

    /// The uploaded file's length in bytes; 0 before the upload.
    pub fn size(&self) -> u64 {
        self.file.as_ref().map_or(0, |f| f.size)
    }

    /// The `dataType` Altinn reports for the file name ([`data_type`]).
    pub fn data_type(&self) -> &'static str {
        data_type(&self.file_name)
    }
}

/// An attachment as one letter uses it: the link and its own expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentLink {
    /// The attachment linked.
    pub attachment: Attachment,
    /// `max(requestedPublishTime, now) + expirationInDays`, fixed when the link was made.
    pub expiration_time: Option<DateTime<Utc>>,
}

impl AttachmentLink {
    /// Whether the attachment expired, or this link's expiration time has come at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.attachment.has_been(AttachmentStatus::Expired)
            || self.expiration_time.is_some_and(|t| t <= now)
    }
}

/// The `Content-Disposition` of a file answer (RFC 6266): `inline; filename*=UTF-8''…` for a
/// file shown in the browser, `attachment; filename="…"; filename*=UTF-8''…` for a download,
/// where the plain `filename` has every character but printable ASCII (and `"` and `\`)
/// replaced by `_` for clients that do not read `filename*`.
pub fn content_disposition(inline: bool, name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if inline {
        format!("inline; filename*=UTF-8''{encoded}")
    } else {
        let ascii: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
    }
}

/// Whether every attachment of a letter is Published: the condition for publishing it.
pub fn all_published(links: &[AttachmentLink]) -> bool {
    links
        .iter()
        .all(|l| l.attachment.status() == AttachmentStatus::Published)
}

/// When a link made at `publish_at` expires: `expiration_in_days` whole days later; `None`
/// when the attachment has no expiry.
pub fn link_expiration(
    publish_at: DateTime<Utc>,
    expiration_in_days: Option<i32>,
) -> Option<DateTime<Utc>> {
    expiration_in_days.map(|d| publish_at + Duration::days(i64::from(d)))
}

/// Why a file name is refused, in the order Altinn checks (reference §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileNameError {
    /// 2010
    #[error("Filename is missing")]
    Missing,
    /// 2011
    #[error("Filename is too long")]
    TooLong,
    /// 2013
    #[error("File type not allowed")]
    TypeNotAllowed,
    /// 2012
    #[error("Filename contains invalid characters")]
    InvalidCharacters,
    /// 2021
    #[error("Filename is a reserved Windows name")]
    ReservedName,
}

/// The longest file name, in characters (2011, and the model's `FileName` length).
pub const FILE_NAME_MAX: usize = 255;

/// The longest display name, in characters (the model's `DisplayName` length).
pub const DISPLAY_NAME_MAX: usize = 255;

const ALLOWED_EXTENSIONS: [&str; 20] = [
    ".doc", ".xls", ".docx", ".xlsx", ".ppt", ".pps", ".zip", ".pdf", ".html", ".txt", ".xml",
    ".jpg", ".jpeg", ".gif", ".bmp", ".png", ".json", ".csv", ".dcm", ".dicom",
];

/// The extension with its dot, lower-cased ("" when there is none).
fn extension(name: &str) -> String {
    match name.rfind('.') {
        Some(i) => name[i..].to_lowercase(),
        None => String::new(),
    }
}

/// Checks a file name by Altinn's rules, in Altinn's order (reference §5.5): present, at most
/// [`FILE_NAME_MAX`] characters, one of Altinn's twenty extensions, no character Windows
/// forbids, not a reserved Windows name.
///
/// Errors: the first rule broken, as a [`FileNameError`].
pub fn check_file_name(name: &str) -> Result<(), FileNameError> {
    if name.trim().is_empty() {
        return Err(FileNameError::Missing);
    }
    if name.chars().count() > FILE_NAME_MAX {
        return Err(FileNameError::TooLong);
    }
    // Exactly Altinn's twenty extensions (`.pptx` is not among them).
    if !ALLOWED_EXTENSIONS.contains(&extension(name).as_str()) {
        return Err(FileNameError::TypeNotAllowed);
    }
    if name
        .chars()
        .any(|c| matches!(c, '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*') || c < ' ')
    {
        return Err(FileNameError::InvalidCharacters);
    }
    let stem = name.split('.').next().unwrap_or(name).to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && matches!(stem.as_bytes()[3], b'1'..=b'9'));
    if reserved {
        return Err(FileNameError::ReservedName);
    }
    Ok(())
}

/// The `dataType` Altinn reports for a file name (§5.5).
pub fn data_type(file_name: &str) -> &'static str {
    match extension(file_name).as_str() {
        ".doc" => "application/msword",
        ".xls" => "application/vnd.ms-excel",
        ".docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".ppt" | ".pps" => "application/vnd.ms-powerpoint",
        ".zip" => "application/zip",
        ".pdf" => "application/pdf",
        ".html" => "text/html",
        ".txt" => "text/plain",
        ".xml" => "text/xml",
        ".jpg" | ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".bmp" => "image/bmp",
        ".png" => "image/png",
        ".json" => "application/json",
        ".csv" => "text/csv",
        ".dcm" | ".dicom" => "application/dicom",
        _ => "binary_octet_stream",
    }
}

/// The `Content-Type` of a recipient's download (§4.10), and whether browsers show it inline.
pub fn download_type(file_name: &str) -> (&'static str, bool) {
    match extension(file_name).as_str() {
        ".pdf" => ("application/pdf", true),
        ".png" => ("image/png", true),
        ".jpg" | ".jpeg" => ("image/jpeg", true),
        ".gif" => ("image/gif", true),
        ".bmp" => ("image/bmp", true),
        ".txt" => ("text/plain; charset=utf-8", false),
        ".csv" => ("text/csv; charset=utf-8", false),
        ".json" => ("application/json", false),
        ".xml" => ("application/xml", false),
        ".html" => ("text/html; charset=utf-8", false),
        ".dcm" | ".dicom" => ("application/dicom", false),
        _ => ("application/octet-stream", false),
    }
}

/// The largest file of a multipart letter: 2 GB, decimal (reference §5.5; 2004 names it `2GB`).
pub const MAX_MULTIPART_FILE: ByteSize = ByteSize::gigabytes(2);
/// The largest file uploaded on its own as a raw body: 50 GB, decimal (reference §5.5; 2004
/// names it `50GB`).
pub const MAX_STREAM_UPLOAD: ByteSize = ByteSize::gigabytes(50);
/// The most attachments one letter may have, existing and new together (1038).
pub const MAX_PER_LETTER: usize = 100;
/// The largest total of a letter's attachments that the download of all of them as one zip
/// serves: 2 GB, decimal. Altinn's text for 2023 says "25 MB" while its limit is 2 GB (a quirk
/// Melding keeps, reference §13, quirk 11).
pub const MAX_DOWNLOAD_ALL: ByteSize = ByteSize::gigabytes(2);
/// The largest total of a letter's attachments for which the sender may allow forwarding:
/// 10 MB, decimal (1069, "exceeds 10 MB").
pub const FORWARDING_MAX: ByteSize = ByteSize::megabytes(10);
/// The shortest `expirationInDays` accepted (Altinn: 14 in production, 1 elsewhere).
pub const MIN_EXPIRATION_DAYS: i32 = 14;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_follow_rfc_6266() {
        assert_eq!(
            content_disposition(true, "vedtak 1.pdf"),
            "inline; filename*=UTF-8''vedtak%201.pdf"
        );
        assert_eq!(
            content_disposition(false, "Søknad.txt"),
            "attachment; filename=\"S_knad.txt\"; filename*=UTF-8''S%C3%B8knad.txt"
        );
    }

    #[test]
    fn file_names_are_checked_in_altinns_order() {
        assert_eq!(check_file_name("vedtak.pdf"), Ok(()));
        assert_eq!(check_file_name("Vedtak.PDF"), Ok(()));
        assert_eq!(check_file_name("  "), Err(FileNameError::Missing));
        let long = format!("{}.pdf", "a".repeat(252));
        assert_eq!(check_file_name(&long), Err(FileNameError::TooLong));
        assert_eq!(check_file_name(&long[1..]), Ok(()));
        assert_eq!(check_file_name("a.exe"), Err(FileNameError::TypeNotAllowed));
        assert_eq!(check_file_name("pdf"), Err(FileNameError::TypeNotAllowed));
        assert_eq!(
            check_file_name("a.pptx"),
            Err(FileNameError::TypeNotAllowed)
        );
        // Type comes before characters: a bad name with a bad type reports the type.
        assert_eq!(
            check_file_name("a?.exe"),
            Err(FileNameError::TypeNotAllowed)
        );
        assert_eq!(
            check_file_name("a?.pdf"),
            Err(FileNameError::InvalidCharacters)
        );
        assert_eq!(
            check_file_name("a\u{7}.pdf"),
            Err(FileNameError::InvalidCharacters)
        );
        assert_eq!(check_file_name("con.txt"), Err(FileNameError::ReservedName));
        assert_eq!(
            check_file_name("LPT1.pdf"),
            Err(FileNameError::ReservedName)
        );
        assert_eq!(check_file_name("com0.pdf"), Ok(()));
        assert_eq!(check_file_name("console.pdf"), Ok(()));
    }

    #[test]
    fn types_follow_the_extension() {
        assert_eq!(data_type("a.PDF"), "application/pdf");
        assert_eq!(data_type("a.xml"), "text/xml");
        assert_eq!(data_type("a"), "binary_octet_stream");
        assert_eq!(download_type("a.xml"), ("application/xml", false));
        assert_eq!(download_type("a.png"), ("image/png", true));
        assert_eq!(download_type("a.zip"), ("application/octet-stream", false));
    }

    #[test]
    fn data_location_input_maps_to_output() {
        assert_eq!(
            DataLocationType::parse_input("existingexternalstorage"),
            Some(DataLocationType::ExternalStorage)
        );
        assert_eq!(
            DataLocationType::parse_input("0"),
            Some(DataLocationType::AltinnCorrespondenceAttachment)
        );
        assert_eq!(DataLocationType::parse_input("3"), None);
    }
}
