//! Delivery reports: what the gateway later says became of an SMS, typed.
//!
//! The webhook that receives them belongs to the HTTP layer; it hands the body to
//! [`parse_delivery_reports`] and records each [`DeliveryReport`]. States map to Altinn's SMS
//! result codes as LINK Mobility's are mapped (`reference/delivery-chain.md` §1.13, rule 20):
//! `DELIVRD→Delivered, EXPIRED→Failed_Expired, DELETED→Failed_Deleted,
//! UNDELIV→Failed_Undelivered, REJECTD→Failed_Rejected, BARRED→Failed_BarredReceiver,
//! FAILED|NULL|UNKNOWN→Failed`. A state outside that list is kept, typed
//! [`DeliveryResult::Unmatched`], so that the caller can store it for a person to look at (Altinn
//! keeps such reports in a dead-letter table, §1.14) instead of losing it.

use serde::Deserialize;

/// The format a gateway posts its reports in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Melding's generic JSON: one object or an array of objects
    /// `{"gatewayReference": "…", "to": "+4791234567", "status": "DELIVRD", "timestamp": "…"}`;
    /// `status` uses the SMPP delivery-receipt `stat` words that LINK also uses; `to` and
    /// `timestamp` may be left out.
    GenericJson,
    /// LINK Mobility PSWin XML: `MSGLST{MSG{ID?, REF, RCV, STATE, DELIVERYTIME}}`
    /// (`reference/delivery-chain.md` §7.2), ISO-8859-1.
    LinkPswinXml,
}

/// Altinn's final SMS results that a delivery report can carry (`reference/delivery-chain.md`
/// §1.13, `SmsNotificationResultType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmsResult {
    /// Reached the handset.
    Delivered,
    /// Failed for a reason the gateway did not name.
    Failed,
    /// The network gave up when the time to live ran out.
    FailedExpired,
    /// Deleted by the network or operator before delivery.
    FailedDeleted,
    /// Could not be delivered (e.g. the number does not exist or the phone refused it).
    FailedUndelivered,
    /// Refused by the network or the gateway.
    FailedRejected,
    /// The subscriber is barred from receiving SMS.
    FailedBarredReceiver,
}

impl SmsResult {
    /// Altinn's name, e.g. `Failed_BarredReceiver` (the `SMS_` prefix of the v2 status API is
    /// the caller's to add).
    pub fn as_str(self) -> &'static str {
        match self {
            SmsResult::Delivered => "Delivered",
            SmsResult::Failed => "Failed",
            SmsResult::FailedExpired => "Failed_Expired",
            SmsResult::FailedDeleted => "Failed_Deleted",
            SmsResult::FailedUndelivered => "Failed_Undelivered",
            SmsResult::FailedRejected => "Failed_Rejected",
            SmsResult::FailedBarredReceiver => "Failed_BarredReceiver",
        }
    }

    /// The result for a gateway state word (case-insensitive, surrounding white space ignored),
    /// or `None` for a word outside the mapping in the module docs.
    pub fn from_gateway_state(state: &str) -> Option<Self> {
        Some(match state.trim().to_ascii_uppercase().as_str() {
            "DELIVRD" => SmsResult::Delivered,
            "EXPIRED" => SmsResult::FailedExpired,
            "DELETED" => SmsResult::FailedDeleted,
            "UNDELIV" => SmsResult::FailedUndelivered,
            "REJECTD" => SmsResult::FailedRejected,
            "BARRED" => SmsResult::FailedBarredReceiver,
            "FAILED" | "NULL" | "UNKNOWN" => SmsResult::Failed,
            _ => return None,
        })
    }
}

/// What a report says, in our terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryResult {
    /// A state we know, mapped to Altinn's result.
    Matched(SmsResult),
    /// A state we do not know; see [`DeliveryReport::state`] for what the gateway said.
    Unmatched,
}

/// One report about one SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The gateway's reference for the SMS, as returned when it was sent
    /// ([`super::SmsReceipt::gateway_reference`]).
    pub gateway_reference: String,
    /// The recipient as the gateway wrote it (PSWin: MSISDN without `+`), if given.
    pub recipient: Option<String>,
    /// The state word as the gateway sent it, e.g. `DELIVRD`.
    pub state: String,
    /// The state mapped to Altinn's result, or unmatched.
    pub result: DeliveryResult,
    /// When the gateway says the state was reached, as it wrote it (PSWin's format is its own,
    /// e.g. `2026.11.30 14:15:00`, in Norwegian time); kept as text for the record.
    pub reported_at: Option<String>,
}

/// Why a report body could not be read at all (a single unknown state is not an error; see
/// [`DeliveryResult::Unmatched`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportParseError {
    /// The body is not a document of the format.
    #[error("unreadable delivery report: {0}")]
    Unreadable(String),
    /// A report names no gateway reference, so it cannot be matched to any SMS.
    #[error("a delivery report without a gateway reference")]
    MissingReference,
}

/// Reads every report in `body` (one request may carry several).
///
/// Errors: [`ReportParseError`] when the body is not a document of `format`, or a report in it
/// has no reference. The webhook should answer such a body with 400 and keep it for a person.
pub fn parse_delivery_reports(
    format: ReportFormat,
    body: &[u8],
) -> Result<Vec<DeliveryReport>, ReportParseError> {
    let raw = match format {
        ReportFormat::GenericJson => generic_reports(body)?,
        ReportFormat::LinkPswinXml => pswin_reports(body)?,
    };
    raw.into_iter()
        .map(|r| {
            let gateway_reference = r
                .reference
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .ok_or(ReportParseError::MissingReference)?;
            let state = r.state.unwrap_or_default().trim().to_owned();
            let result = SmsResult::from_gateway_state(&state)
                .map(DeliveryResult::Matched)
                .unwrap_or(DeliveryResult::Unmatched);
            Ok(DeliveryReport {
                gateway_reference,
                recipient: r
                    .recipient
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty()),
                state,
                result,
                reported_at: r.at.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
            })
        })
        .collect()
}

/// A report before it is checked, whatever its format.
struct RawReport {
    reference: Option<String>,
    recipient: Option<String>,
    state: Option<String>,
    at: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<GenericReport>),
    One(GenericReport),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenericReport {
    gateway_reference: Option<String>,
    to: Option<String>,
    status: Option<String>,
    timestamp: Option<String>,
}

fn generic_reports(body: &[u8]) -> Result<Vec<RawReport>, ReportParseError> {
    let parsed: OneOrMany =
        serde_json::from_slice(body).map_err(|e| ReportParseError::Unreadable(e.to_string()))?;
    let reports = match parsed {
        OneOrMany::Many(reports) => reports,
        OneOrMany::One(report) => vec![report],
    };
    Ok(reports
        .into_iter()
        .map(|r| RawReport {
            reference: r.gateway_reference,
            recipient: r.to,
            state: r.status,
            at: r.timestamp,
        })
        .collect())
}

#[derive(Deserialize)]
struct PswinReports {
    #[serde(rename = "MSG", default)]
    messages: Vec<PswinReport>,
}

#[derive(Deserialize)]
#[serde(rename_all = "UPPERCASE")]
struct PswinReport {
    #[serde(rename = "REF", default)]
    reference: Option<String>,
    #[serde(default)]
    rcv: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    deliverytime: Option<String>,
}

fn pswin_reports(body: &[u8]) -> Result<Vec<RawReport>, ReportParseError> {
    let document = super::pswin::latin1_document(body);
    let parsed: PswinReports = quick_xml::de::from_str(&document)
        .map_err(|e| ReportParseError::Unreadable(e.to_string()))?;
    Ok(parsed
        .messages
        .into_iter()
        .map(|r| RawReport {
            reference: r.reference,
            recipient: r.rcv,
            state: r.state,
            at: r.deliverytime,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gateway_state_maps_as_altinn_does() {
        let table = [
            ("DELIVRD", Some("Delivered")),
            ("EXPIRED", Some("Failed_Expired")),
            ("DELETED", Some("Failed_Deleted")),
            ("UNDELIV", Some("Failed_Undelivered")),
            ("REJECTD", Some("Failed_Rejected")),
            ("BARRED", Some("Failed_BarredReceiver")),
            ("FAILED", Some("Failed")),
            ("NULL", Some("Failed")),
            ("UNKNOWN", Some("Failed")),
            (" delivrd ", Some("Delivered")),
            ("ACCEPTD", None),
            ("", None),
            ("SOMETHING", None),
        ];
        for (state, want) in table {
            assert_eq!(
                SmsResult::from_gateway_state(state).map(SmsResult::as_str),
                want,
                "{state:?}"
            );
        }
    }

    #[test]
    fn pswin_reports_are_read() {
        let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<MSGLST>\
            <MSG><ID>1</ID><REF>ref-1</REF><RCV>4791234567</RCV><STATE>DELIVRD</STATE>\
            <DELIVERYTIME>2026.11.30 14:15:00</DELIVERYTIME></MSG>\
            <MSG><ID>2</ID><REF>ref-2</REF><RCV>4741234567</RCV><STATE>BARRED</STATE>\
            <DELIVERYTIME>2026.11.30 14:16:00</DELIVERYTIME></MSG>\
            <MSG><ID>3</ID><REF>ref-3</REF><RCV>4741234568</RCV><STATE>WEIRD</STATE></MSG>\
            </MSGLST>";
        let reports = parse_delivery_reports(ReportFormat::LinkPswinXml, body).unwrap();
        assert_eq!(
            reports,
            vec![
                DeliveryReport {
                    gateway_reference: "ref-1".into(),
                    recipient: Some("4791234567".into()),
                    state: "DELIVRD".into(),
                    result: DeliveryResult::Matched(SmsResult::Delivered),
                    reported_at: Some("2026.11.30 14:15:00".into()),
                },
                DeliveryReport {
                    gateway_reference: "ref-2".into(),
                    recipient: Some("4741234567".into()),
                    state: "BARRED".into(),
                    result: DeliveryResult::Matched(SmsResult::FailedBarredReceiver),
                    reported_at: Some("2026.11.30 14:16:00".into()),
                },
                DeliveryReport {
                    gateway_reference: "ref-3".into(),
                    recipient: Some("4741234568".into()),
                    state: "WEIRD".into(),
                    result: DeliveryResult::Unmatched,
                    reported_at: None,
                },
            ]
        );
    }

    #[test]
    fn generic_reports_are_read_one_or_many() {
        let one = br#"{"gatewayReference":"g-1","to":"+4791234567","status":"EXPIRED","timestamp":"2026-11-30T13:15:00Z"}"#;
        let reports = parse_delivery_reports(ReportFormat::GenericJson, one).unwrap();
        assert_eq!(reports.len(), 1);
        assert_eq!(
            reports[0].result,
            DeliveryResult::Matched(SmsResult::FailedExpired)
        );
        assert_eq!(
            reports[0].reported_at.as_deref(),
            Some("2026-11-30T13:15:00Z")
        );

        let many = br#"[{"gatewayReference":"g-1","status":"DELIVRD"},{"gatewayReference":"g-2","status":"ENROUTE"}]"#;
        let reports = parse_delivery_reports(ReportFormat::GenericJson, many).unwrap();
        assert_eq!(
            reports[0].result,
            DeliveryResult::Matched(SmsResult::Delivered)
        );
        assert_eq!(reports[0].recipient, None);
        assert_eq!(reports[1].result, DeliveryResult::Unmatched);
        assert_eq!(reports[1].state, "ENROUTE");
    }

    #[test]
    fn unreadable_bodies_and_missing_references_are_errors() {
        assert!(matches!(
            parse_delivery_reports(ReportFormat::GenericJson, b"not json"),
            Err(ReportParseError::Unreadable(_))
        ));
        assert!(matches!(
            parse_delivery_reports(ReportFormat::LinkPswinXml, b"<MSGLST><MSG>"),
            Err(ReportParseError::Unreadable(_))
        ));
        assert_eq!(
            parse_delivery_reports(ReportFormat::GenericJson, br#"{"status":"DELIVRD"}"#),
            Err(ReportParseError::MissingReference)
        );
        assert_eq!(
            parse_delivery_reports(
                ReportFormat::LinkPswinXml,
                b"<MSGLST><MSG><REF> </REF><STATE>DELIVRD</STATE></MSG></MSGLST>"
            ),
            Err(ReportParseError::MissingReference)
        );
        assert_eq!(
            parse_delivery_reports(ReportFormat::LinkPswinXml, b"<MSGLST></MSGLST>"),
            Ok(vec![])
        );
    }
}
