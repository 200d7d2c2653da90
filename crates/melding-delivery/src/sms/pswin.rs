//! LINK Mobility's PSWin XML gateway (`reference/delivery-chain.md` §7.2, rule 46), the gateway
//! Altinn uses. Hand-written XML out (one fixed document, five escapes) and quick-xml in.
//!
//! Request: `SESSION{CLIENT, PW, MSGLST{MSG{ID, TEXT, SND, RCV, TTL, OP?}}}` in ISO-8859-1; the
//! receiver is the MSISDN without `+`; TTL is in minutes; a text that is not GSM-7 in Latin-1
//! goes as hex UCS-2 with `OP=9`. Answer: `SESSION{LOGON OK|FAIL, REASON, MSGLST{MSG{ID,
//! STATUS OK|FAIL, INFO, REF}}}`; `REF` is the gateway's reference its delivery reports name.

use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;

use super::SmsMessage;
use super::segments::is_gsm7;
use crate::error::{PermanentKind, SendError};
use crate::secret::Secret;

pub(super) fn send_request(
    request: RequestBuilder,
    client: &str,
    password: &Secret,
    message: &SmsMessage,
) -> RequestBuilder {
    request
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/xml; charset=ISO-8859-1",
        )
        .body(send_document(client, password.expose(), message))
}

/// The request document, encoded as ISO-8859-1.
pub(super) fn send_document(client: &str, password: &str, message: &SmsMessage) -> Vec<u8> {
    let latin1 = |s: &str| s.chars().all(|c| u32::from(c) <= 0xFF);
    let (text, op) = if is_gsm7(&message.text) && latin1(&message.text) {
        (escape(&message.text), "")
    } else {
        let hex: String = message
            .text
            .encode_utf16()
            .map(|unit| format!("{unit:04X}"))
            .collect();
        (hex, "<OP>9</OP>")
    };
    let ttl_minutes = message.time_to_live.as_secs().div_ceil(60);
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\
         <SESSION><CLIENT>{client}</CLIENT><PW>{password}</PW><MSGLST><MSG>\
         <ID>1</ID><TEXT>{text}</TEXT><SND>{sender}</SND><RCV>{rcv}</RCV>\
         <TTL>{ttl_minutes}</TTL>{op}</MSG></MSGLST></SESSION>",
        client = escape(client),
        password = escape(password),
        sender = escape(message.sender.as_str()),
        rcv = message.to.msisdn(),
    );
    // Every character is Latin-1 here: the text was checked above, or is hex; the account
    // values that are not are replaced, which only makes the logon fail visibly.
    document
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Bytes read as ISO-8859-1 (every byte is the code point of its value), the gateway's
/// encoding; pure ASCII reads the same as UTF-8. The XML declaration is dropped, since the text
/// is decoded already.
pub(super) fn latin1_document(body: &[u8]) -> String {
    let text: String = body.iter().map(|&b| char::from(b)).collect();
    match text.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map(|(_, after)| after.to_owned())
            .unwrap_or_default(),
        None => text,
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
struct SessionAnswer {
    logon: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    msglst: Option<MessageListAnswer>,
}

#[derive(Debug, Deserialize)]
struct MessageListAnswer {
    #[serde(rename = "MSG", default)]
    messages: Vec<MessageAnswer>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
struct MessageAnswer {
    status: String,
    #[serde(default)]
    info: Option<String>,
    #[serde(rename = "REF", default)]
    reference: Option<String>,
}

/// The gateway's reference for our one message. A failed logon is transient (our account
/// settings, which an operator fixes); `STATUS FAIL` is permanent, an invalid recipient when
/// `INFO` starts with "Invalid RCV" (Altinn's rule, `reference/delivery-chain.md` §1.13); an
/// answer we cannot read, or a non-2xx status, is transient.
pub(super) fn read_response(status: StatusCode, body: &[u8]) -> Result<String, SendError> {
    if !status.is_success() {
        return Err(SendError::permanent(
            PermanentKind::Rejected,
            format!("HTTP {status}"),
        ));
    }
    let document = latin1_document(body);
    let answer: SessionAnswer = quick_xml::de::from_str(&document)
        .map_err(|e| SendError::transient(format!("unreadable gateway answer: {e}")))?;
    if !answer.logon.trim().eq_ignore_ascii_case("OK") {
        return Err(SendError::transient(format!(
            "the gateway refused our logon: {}",
            answer.reason.unwrap_or_default().trim()
        )));
    }
    let message = answer
        .msglst
        .and_then(|list| list.messages.into_iter().next())
        .ok_or_else(|| SendError::transient("the gateway answer lists no message"))?;
    let info = message.info.unwrap_or_default().trim().to_owned();
    if !message.status.trim().eq_ignore_ascii_case("OK") {
        let kind = if info.starts_with("Invalid RCV") {
            PermanentKind::InvalidRecipient
        } else {
            PermanentKind::Rejected
        };
        return Err(SendError::permanent(kind, format!("gateway: {info}")));
    }
    match message.reference.map(|r| r.trim().to_owned()) {
        Some(reference) if !reference.is_empty() => Ok(reference),
        _ => Err(SendError::transient(
            "the gateway took the message without a REF",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::SmsSenderId;
    use melding_domain::MobileNumber;
    use std::time::Duration;

    fn message(text: &str) -> SmsMessage {
        SmsMessage {
            sender: SmsSenderId::parse("Altinn").unwrap(),
            to: MobileNumber::parse("91234567").unwrap(),
            text: text.into(),
            reference: "n-1".into(),
            time_to_live: Duration::from_secs(48 * 3600),
        }
    }

    #[test]
    fn gsm_text_goes_as_latin1() {
        let doc = send_document("acct", "p<w", &message("Hei Åse & co"));
        let expected = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><SESSION><CLIENT>acct</CLIENT>\
            <PW>p&lt;w</PW><MSGLST><MSG><ID>1</ID><TEXT>Hei \u{c5}se &amp; co</TEXT><SND>Altinn</SND>\
            <RCV>4791234567</RCV><TTL>2880</TTL></MSG></MSGLST></SESSION>";
        let expected: Vec<u8> = expected.chars().map(|c| c as u8).collect();
        assert_eq!(doc, expected);
        assert!(doc.contains(&0xC5), "Å is one Latin-1 byte");
    }

    #[test]
    fn other_text_goes_as_hex_ucs2() {
        for text in ["Cześć", "Kostnad 5 €"] {
            let doc = String::from_utf8(send_document("a", "b", &message(text))).unwrap();
            let hex: String = text.encode_utf16().map(|u| format!("{u:04X}")).collect();
            assert!(doc.contains(&format!("<TEXT>{hex}</TEXT>")), "{doc}");
            assert!(doc.contains("<OP>9</OP>"), "{doc}");
        }
    }

    #[test]
    fn answers() {
        let ok = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><SESSION><LOGON>OK</LOGON><REASON></REASON>\
            <MSGLST><MSG><ID>1</ID><STATUS>OK</STATUS><INFO></INFO><REF>abc123</REF></MSG></MSGLST></SESSION>";
        assert_eq!(read_response(StatusCode::OK, ok).unwrap(), "abc123");

        let invalid = b"<SESSION><LOGON>OK</LOGON><MSGLST><MSG><ID>1</ID><STATUS>FAIL</STATUS>\
            <INFO>Invalid RCV 4700</INFO></MSG></MSGLST></SESSION>";
        assert!(matches!(
            read_response(StatusCode::OK, invalid),
            Err(SendError::Permanent {
                kind: PermanentKind::InvalidRecipient,
                ..
            })
        ));

        let refused = b"<SESSION><LOGON>OK</LOGON><MSGLST><MSG><ID>1</ID><STATUS>FAIL</STATUS>\
            <INFO>Blocked</INFO></MSG></MSGLST></SESSION>";
        assert!(matches!(
            read_response(StatusCode::OK, refused),
            Err(SendError::Permanent {
                kind: PermanentKind::Rejected,
                ..
            })
        ));

        let logon = b"<SESSION><LOGON>FAIL</LOGON><REASON>Bad password</REASON></SESSION>";
        match read_response(StatusCode::OK, logon) {
            Err(SendError::Transient { reason }) => assert!(reason.contains("Bad password")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_response(StatusCode::OK, b"not xml"),
            Err(SendError::Transient { .. })
        ));
    }
}
