//! The notification order of an initialize request (`correspondence.notification`, Altinn's
//! `InitializeCorrespondenceNotificationExt`, reference §8.1) and its model checks.
//!
//! What is checked here is what the reference checks before its handler runs (§2.2): the text
//! lengths, that the channels are defined values, and, as Melding's deliberate deviation for
//! every organisation number (README), that a custom recipient's organisation or national
//! identity number passes its control digits. A template integer the reference does not define
//! passes the model and is refused afterwards with a bare string (3023, §2.2 quirk), so it is
//! kept here as [`Choice::Undefined`]. The business rules (3001–3025) belong to the use case.

use melding_domain::notification::{EmailContentType, NotificationChannel, NotificationTemplate};
use melding_domain::recipient::RecipientError;
use melding_domain::{NationalId, OrgNumber};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::check::{Problems, optional_text};
use crate::problem::FieldError;

/// The longest e-mail subject, main or reminder, in characters (reference §8.1).
pub const EMAIL_SUBJECT_MAX: usize = 512;
/// The longest e-mail body, main or reminder, in characters (reference §8.1).
pub const EMAIL_BODY_MAX: usize = 10_000;
/// The longest SMS body, main or reminder, in characters (reference §8.1).
pub const SMS_BODY_MAX: usize = 2_144;

/// An enum value as sent: one the reference defines, or an integer it does not. A name it does
/// not define is refused by the JSON reader (with its path), as the reference's reader refuses
/// it; an undefined integer reaches the checks, as it does in the reference, where a C# enum
/// holds any integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice<T> {
    /// A defined value.
    Defined(T),
    /// An integer outside the enum's values.
    Undefined(i64),
}

/// `correspondence.notification` as sent. Every field is optional on the wire; the defaults are
/// the reference's (§8.1): template CustomMessage, channel Email (when omitted, a quirk), content
/// type Plain, no reminder, no custom recipients, no override.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializeCorrespondenceNotificationExt {
    /// `CustomMessage` (0) or `GenericAltinnMessage` (1), by name (any case) or number. An
    /// undefined number is answered with the bare string "Invalid notification template".
    #[serde(default, deserialize_with = "template")]
    #[schema(value_type = Option<String>, example = "CustomMessage")]
    pub notification_template: Option<Choice<NotificationTemplate>>,
    /// The main e-mail's subject text, at most [`EMAIL_SUBJECT_MAX`] characters.
    pub email_subject: Option<String>,
    /// The main e-mail's body text, at most [`EMAIL_BODY_MAX`] characters.
    pub email_body: Option<String>,
    /// `Plain` (0, default) or `Html` (1).
    #[serde(default, deserialize_with = "content_type")]
    #[schema(value_type = Option<String>, example = "Plain")]
    pub email_content_type: Option<Choice<EmailContentType>>,
    /// The main SMS text, at most [`SMS_BODY_MAX`] characters.
    pub sms_body: Option<String>,
    /// Whether a reminder is sent if the letter stays unread; false when not given.
    pub send_reminder: Option<bool>,
    /// The reminder e-mail's subject text, at most [`EMAIL_SUBJECT_MAX`] characters.
    pub reminder_email_subject: Option<String>,
    /// The reminder e-mail's body text, at most [`EMAIL_BODY_MAX`] characters.
    pub reminder_email_body: Option<String>,
    /// The reminder e-mail's content type; the main one's when not given.
    #[serde(default, deserialize_with = "content_type")]
    #[schema(value_type = Option<String>, example = "Plain")]
    pub reminder_email_content_type: Option<Choice<EmailContentType>>,
    /// The reminder SMS text, at most [`SMS_BODY_MAX`] characters.
    pub reminder_sms_body: Option<String>,
    /// `Email` (0, also when omitted), `Sms` (1), `EmailPreferred` (2), `SmsPreferred` (3) or
    /// `EmailAndSms` (4), by name (any case) or number.
    #[serde(default, deserialize_with = "channel")]
    #[schema(value_type = Option<String>, example = "Email")]
    pub notification_channel: Option<Choice<NotificationChannel>>,
    /// The reminder's channel; the main one's when not given.
    #[serde(default, deserialize_with = "channel")]
    #[schema(value_type = Option<String>, example = "Email")]
    pub reminder_notification_channel: Option<Choice<NotificationChannel>>,
    /// Accepted and not used (reference §8.1).
    pub senders_reference: Option<String>,
    /// Whom to notify besides (or, with `overrideRegisteredContactInformation`, instead of) the
    /// letter's recipient; each names exactly one identifier.
    pub custom_recipients: Option<Vec<NotificationRecipientExt>>,
    /// Deprecated: one custom recipient, used when `customRecipients` is empty.
    pub custom_recipient: Option<NotificationRecipientExt>,
    /// Deprecated: the first element's recipients are used when neither of the above is given.
    pub custom_notification_recipients: Option<Vec<CustomNotificationRecipientExt>>,
    /// Notify only the custom recipients, not the letter's recipient; false when not given.
    pub override_registered_contact_information: Option<bool>,
}

/// One custom recipient (`NotificationRecipientExt`): exactly one of the four identifiers
/// (3019, 3018).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationRecipientExt {
    /// An e-mail address (3011 when not a strict one).
    pub email_address: Option<String>,
    /// A mobile number starting with `+` or `00` (3012 otherwise).
    pub mobile_number: Option<String>,
    /// An organisation number, 9 digits (optionally `0192:` before them).
    pub organization_number: Option<String>,
    /// A national identity number, 11 digits.
    pub national_identity_number: Option<String>,
    /// Accepted and not used.
    pub is_reserved: Option<bool>,
}

/// The deprecated `customNotificationRecipients` element.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomNotificationRecipientExt {
    /// Not used (the reference ignores it too).
    pub recipient_to_override: Option<String>,
    /// The custom recipients.
    pub recipients: Option<Vec<NotificationRecipientExt>>,
}

/// A custom recipient after the model checks: the organisation and national identity numbers
/// that were given passed their control digits; e-mail and mobile are checked by the business
/// rules (3011, 3012). Blank fields count as not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidCustomRecipient {
    /// The e-mail address as given.
    pub email_address: Option<String>,
    /// The mobile number as given.
    pub mobile_number: Option<String>,
    /// The organisation number.
    pub organization_number: Option<OrgNumber>,
    /// The national identity number.
    pub national_identity_number: Option<NationalId>,
}

/// The notification order after the model checks, with the reference's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNotification {
    /// The template; an undefined integer is refused by the caller with 3023's bare string.
    pub template: Choice<NotificationTemplate>,
    /// The main channel (Email when not given).
    pub channel: NotificationChannel,
    /// The main e-mail subject.
    pub email_subject: Option<String>,
    /// The main e-mail body.
    pub email_body: Option<String>,
    /// The main e-mail's content type (Plain when not given).
    pub email_content_type: EmailContentType,
    /// The main SMS text.
    pub sms_body: Option<String>,
    /// Whether a reminder is sent.
    pub send_reminder: bool,
    /// The reminder's channel, when given.
    pub reminder_channel: Option<NotificationChannel>,
    /// The reminder e-mail subject.
    pub reminder_email_subject: Option<String>,
    /// The reminder e-mail body.
    pub reminder_email_body: Option<String>,
    /// The reminder e-mail's content type, when given.
    pub reminder_email_content_type: Option<EmailContentType>,
    /// The reminder SMS text.
    pub reminder_sms_body: Option<String>,
    /// The custom recipients: `customRecipients`, else the deprecated `customRecipient`, else
    /// the first `customNotificationRecipients` element's recipients (reference §8.1).
    pub custom_recipients: Vec<ValidCustomRecipient>,
    /// Notify only the custom recipients.
    pub override_registered_contact_information: bool,
}

impl InitializeCorrespondenceNotificationExt {
    /// The model checks of the notification, recorded in `p` at `Correspondence/Notification/…`
    /// in the order of the reference's properties: the six texts' lengths, the content types and
    /// channels (defined values), then the custom recipients' numbers.
    ///
    /// Returns the checked notification when none of its checks failed.
    pub(crate) fn validate(self, p: &mut Problems) -> Option<ValidNotification> {
        const AT: &str = "Correspondence/Notification/";
        let text = |p: &mut Problems, name: &str, v: Option<String>, max: usize| {
            p.take(optional_text(AT, name, v, max))
        };
        let email_subject = text(p, "EmailSubject", self.email_subject, EMAIL_SUBJECT_MAX);
        let email_body = text(p, "EmailBody", self.email_body, EMAIL_BODY_MAX);
        let email_content_type = p.take(defined(AT, "EmailContentType", self.email_content_type));
        let sms_body = text(p, "SmsBody", self.sms_body, SMS_BODY_MAX);
        let reminder_email_subject = text(
            p,
            "ReminderEmailSubject",
            self.reminder_email_subject,
            EMAIL_SUBJECT_MAX,
        );
        let reminder_email_body = text(
            p,
            "ReminderEmailBody",
            self.reminder_email_body,
            EMAIL_BODY_MAX,
        );
        let reminder_email_content_type = p.take(defined(
            AT,
            "ReminderEmailContentType",
            self.reminder_email_content_type,
        ));
        let reminder_sms_body = text(p, "ReminderSmsBody", self.reminder_sms_body, SMS_BODY_MAX);
        let channel = p.take(defined(
            AT,
            "NotificationChannel",
            self.notification_channel,
        ));
        let reminder_channel = p.take(defined(
            AT,
            "ReminderNotificationChannel",
            self.reminder_notification_channel,
        ));
        let custom = custom_recipients(
            self.custom_recipients,
            self.custom_recipient,
            self.custom_notification_recipients,
        );
        let custom_recipients = p.take_all(custom);
        Some(ValidNotification {
            template: self
                .notification_template
                .unwrap_or(Choice::Defined(NotificationTemplate::CustomMessage)),
            channel: channel?.unwrap_or(NotificationChannel::Email),
            email_subject: email_subject?,
            email_body: email_body?,
            email_content_type: email_content_type?.unwrap_or_default(),
            sms_body: sms_body?,
            send_reminder: self.send_reminder.unwrap_or(false),
            reminder_channel: reminder_channel?,
            reminder_email_subject: reminder_email_subject?,
            reminder_email_body: reminder_email_body?,
            reminder_email_content_type: reminder_email_content_type?,
            reminder_sms_body: reminder_sms_body?,
            custom_recipients: custom_recipients?,
            override_registered_contact_information: self
                .override_registered_contact_information
                .unwrap_or(false),
        })
    }
}

/// An optional enum that must be a defined value when given.
///
/// Errors: the reference's text `The {name} field must be a defined value.` at `{prefix}{name}`.
fn defined<T>(prefix: &str, name: &str, value: Option<Choice<T>>) -> Result<Option<T>, FieldError> {
    match value {
        None => Ok(None),
        Some(Choice::Defined(v)) => Ok(Some(v)),
        Some(Choice::Undefined(_)) => Err(FieldError::new(
            format!("{prefix}{name}"),
            format!("The {name} field must be a defined value."),
        )),
    }
}

/// The custom recipients in force (reference §8.1: `customRecipients`, else `customRecipient`,
/// else the first `customNotificationRecipients` element's recipients), each with its numbers
/// checked. Paths name the field the recipient came from.
///
/// Errors: one per organisation or national identity number that fails its check.
fn custom_recipients(
    list: Option<Vec<NotificationRecipientExt>>,
    single: Option<NotificationRecipientExt>,
    deprecated: Option<Vec<CustomNotificationRecipientExt>>,
) -> Result<Vec<ValidCustomRecipient>, Vec<FieldError>> {
    const AT: &str = "Correspondence/Notification/";
    let (at, chosen): (String, Vec<NotificationRecipientExt>) = match (list, single, deprecated) {
        (Some(l), _, _) if !l.is_empty() => (format!("{AT}CustomRecipients"), l),
        (_, Some(one), _) => (format!("{AT}CustomRecipient"), vec![one]),
        (_, _, Some(d)) if !d.is_empty() => (
            format!("{AT}CustomNotificationRecipients[0]/Recipients"),
            d.into_iter()
                .next()
                .and_then(|c| c.recipients)
                .unwrap_or_default(),
        ),
        _ => return Ok(vec![]),
    };
    let single = at.ends_with("CustomRecipient");
    let mut p = Problems::default();
    let checked: Vec<Option<ValidCustomRecipient>> = chosen
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let at = if single {
                format!("{at}/")
            } else {
                format!("{at}[{i}]/")
            };
            p.take_all(custom_recipient(&at, r))
        })
        .collect();
    p.finish(checked.into_iter().collect())
}

/// The reference's model text for an organisation number it cannot read.
const ORG_NUMBER_TEXT: &str = "Organization numbers should be on the format countrycode:organizationnumber, for instance 0192:910753614";

/// One custom recipient: blank fields dropped, numbers checked.
fn custom_recipient(
    at: &str,
    r: NotificationRecipientExt,
) -> Result<ValidCustomRecipient, Vec<FieldError>> {
    let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let mut p = Problems::default();
    let organization_number = p.take(
        given(r.organization_number)
            .map(|n| {
                let trimmed = n.trim();
                let digits = trimmed.strip_prefix("0192:").unwrap_or(trimmed);
                OrgNumber::parse(digits).map_err(|_| {
                    FieldError::new(format!("{at}OrganizationNumber"), ORG_NUMBER_TEXT)
                })
            })
            .transpose(),
    );
    let national_identity_number = p.take(
        given(r.national_identity_number)
            .map(|n| {
                NationalId::parse(n.trim()).map_err(|e| {
                    FieldError::new(
                        format!("{at}NationalIdentityNumber"),
                        crate::correspondence::recipient_message(&RecipientError::NationalId(e)),
                    )
                })
            })
            .transpose(),
    );
    let valid = match (organization_number, national_identity_number) {
        (Some(organization_number), Some(national_identity_number)) => Some(ValidCustomRecipient {
            email_address: given(r.email_address),
            mobile_number: given(r.mobile_number),
            organization_number,
            national_identity_number,
        }),
        _ => None,
    };
    p.finish(valid)
}

/// Reads an enum as a name (any case), a number, or a string of digits (how a multipart form
/// sends a number). `null` reads as not given.
fn choice<'de, D, T>(
    d: D,
    by_name: fn(&str) -> Option<T>,
    by_value: fn(i64) -> Option<T>,
    what: &'static str,
) -> Result<Option<Choice<T>>, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Value::deserialize(d)?;
    let n = match &v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_i64(),
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return by_name(s).map(|t| Some(Choice::Defined(t))).ok_or_else(|| {
                    serde::de::Error::custom(format!("'{s}' is not a valid {what}"))
                });
            }
        },
        _ => None,
    };
    match n {
        Some(n) => Ok(Some(
            by_value(n).map_or(Choice::Undefined(n), Choice::Defined),
        )),
        None => Err(serde::de::Error::custom(format!("expected a {what}"))),
    }
}

fn template<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Choice<NotificationTemplate>>, D::Error> {
    choice(
        d,
        NotificationTemplate::parse,
        NotificationTemplate::from_value,
        "NotificationTemplateExt",
    )
}

fn channel<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Choice<NotificationChannel>>, D::Error> {
    choice(
        d,
        NotificationChannel::parse,
        NotificationChannel::from_value,
        "NotificationChannelExt",
    )
}

fn content_type<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Choice<EmailContentType>>, D::Error> {
    fn by_name(s: &str) -> Option<EmailContentType> {
        match s.trim().to_ascii_lowercase().as_str() {
            "plain" => Some(EmailContentType::Plain),
            "html" => Some(EmailContentType::Html),
            _ => None,
        }
    }
    fn by_value(v: i64) -> Option<EmailContentType> {
        match v {
            0 => Some(EmailContentType::Plain),
            1 => Some(EmailContentType::Html),
            _ => None,
        }
    }
    choice(d, by_name, by_value, "EmailContentType")
}

/// One notification order an initialize created, in the initialize response
/// (`InitializedCorrespondencesNotificationsExt`). Altinn always answers `null` here because it
/// creates orders later; Melding writes them with the letter and lists them (a deliberate
/// deviation, DESIGN.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitializedCorrespondencesNotificationsExt {
    /// The order's id.
    pub order_id: Option<Uuid>,
    /// Whether it is the reminder order.
    pub is_reminder: Option<bool>,
    /// `Success` for an order written (Altinn's other values, `MissingContact` and
    /// `Failure`, are not produced at initialize).
    #[schema(example = "Success")]
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::parse_json;

    fn checked(v: serde_json::Value) -> Result<ValidNotification, Vec<FieldError>> {
        let n: InitializeCorrespondenceNotificationExt =
            parse_json(v.to_string().as_bytes()).unwrap();
        let mut p = Problems::default();
        let valid = n.validate(&mut p);
        p.finish(valid)
    }

    #[test]
    fn an_empty_notification_takes_the_references_defaults() {
        let n = checked(serde_json::json!({})).unwrap();
        assert_eq!(
            n.template,
            Choice::Defined(NotificationTemplate::CustomMessage)
        );
        assert_eq!(n.channel, NotificationChannel::Email);
        assert_eq!(n.email_content_type, EmailContentType::Plain);
        assert!(!n.send_reminder);
        assert_eq!(n.reminder_channel, None);
        assert_eq!(n.reminder_email_content_type, None);
        assert!(n.custom_recipients.is_empty());
        assert!(!n.override_registered_contact_information);
    }

    #[test]
    fn names_match_in_any_case_and_enums_come_by_name_or_number() {
        let n = checked(serde_json::json!({
            "NotificationTemplate": "genericaltinnmessage",
            "NOTIFICATIONCHANNEL": 4,
            "reminderNotificationChannel": "SmsPreferred",
            "EmailContentType": "Html",
            "reminderEmailContentType": "0",
            "SendReminder": true,
            "EmailSubject": "Emne",
            "overrideregisteredcontactinformation": true,
            "CustomRecipients": [{"EmailAddress": "kari@example.no"}]
        }))
        .unwrap();
        assert_eq!(
            n.template,
            Choice::Defined(NotificationTemplate::GenericAltinnMessage)
        );
        assert_eq!(n.channel, NotificationChannel::EmailAndSms);
        assert_eq!(n.reminder_channel, Some(NotificationChannel::SmsPreferred));
        assert_eq!(n.email_content_type, EmailContentType::Html);
        assert_eq!(n.reminder_email_content_type, Some(EmailContentType::Plain));
        assert!(n.send_reminder);
        assert_eq!(n.email_subject.as_deref(), Some("Emne"));
        assert!(n.override_registered_contact_information);
        assert_eq!(
            n.custom_recipients[0].email_address.as_deref(),
            Some("kari@example.no")
        );
    }

    #[test]
    fn an_undefined_template_number_passes_the_model_but_a_name_does_not() {
        let n = checked(serde_json::json!({"notificationTemplate": 7})).unwrap();
        assert_eq!(n.template, Choice::Undefined(7));
        let e = parse_json::<InitializeCorrespondenceNotificationExt>(
            br#"{"notificationTemplate": "Nonsense"}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "$.notificationTemplate");
    }

    #[test]
    fn an_undefined_channel_is_a_validation_problem() {
        let errs = checked(serde_json::json!({
            "notificationChannel": 5, "reminderNotificationChannel": -1, "emailContentType": 2
        }))
        .unwrap_err();
        let got: Vec<(&str, &str)> = errs
            .iter()
            .map(|e| (e.path.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Correspondence/Notification/EmailContentType",
                    "The EmailContentType field must be a defined value."
                ),
                (
                    "Correspondence/Notification/NotificationChannel",
                    "The NotificationChannel field must be a defined value."
                ),
                (
                    "Correspondence/Notification/ReminderNotificationChannel",
                    "The ReminderNotificationChannel field must be a defined value."
                ),
            ]
        );
    }

    #[test]
    fn texts_are_limited_main_and_reminder_alike() {
        let at_limit = serde_json::json!({
            "emailSubject": "s".repeat(EMAIL_SUBJECT_MAX),
            "emailBody": "b".repeat(EMAIL_BODY_MAX),
            "smsBody": "m".repeat(SMS_BODY_MAX),
            "reminderEmailSubject": "ø".repeat(EMAIL_SUBJECT_MAX),
            "reminderEmailBody": "b".repeat(EMAIL_BODY_MAX),
            "reminderSmsBody": "m".repeat(SMS_BODY_MAX),
        });
        assert!(checked(at_limit).is_ok());
        let over = serde_json::json!({
            "emailSubject": "s".repeat(EMAIL_SUBJECT_MAX + 1),
            "emailBody": "b".repeat(EMAIL_BODY_MAX + 1),
            "smsBody": "m".repeat(SMS_BODY_MAX + 1),
            "reminderEmailSubject": "ø".repeat(EMAIL_SUBJECT_MAX + 1),
            "reminderEmailBody": "b".repeat(EMAIL_BODY_MAX + 1),
            "reminderSmsBody": "m".repeat(SMS_BODY_MAX + 1),
        });
        let errs = checked(over).unwrap_err();
        let got: Vec<(&str, &str)> = errs
            .iter()
            .map(|e| (e.path.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Correspondence/Notification/EmailSubject",
                    "The field EmailSubject must be a string with a maximum length of 512."
                ),
                (
                    "Correspondence/Notification/EmailBody",
                    "The field EmailBody must be a string with a maximum length of 10000."
                ),
                (
                    "Correspondence/Notification/SmsBody",
                    "The field SmsBody must be a string with a maximum length of 2144."
                ),
                (
                    "Correspondence/Notification/ReminderEmailSubject",
                    "The field ReminderEmailSubject must be a string with a maximum length of 512."
                ),
                (
                    "Correspondence/Notification/ReminderEmailBody",
                    "The field ReminderEmailBody must be a string with a maximum length of 10000."
                ),
                (
                    "Correspondence/Notification/ReminderSmsBody",
                    "The field ReminderSmsBody must be a string with a maximum length of 2144."
                ),
            ]
        );
    }

    #[test]
    fn the_deprecated_recipient_fields_are_used_in_the_references_order() {
        let r = |email: &str| serde_json::json!({"emailAddress": email});
        let n = checked(serde_json::json!({
            "customRecipients": [r("a@example.no")],
            "customRecipient": r("b@example.no"),
            "customNotificationRecipients": [{"recipientToOverride": "x", "recipients": [r("c@example.no")]}]
        }))
        .unwrap();
        assert_eq!(
            n.custom_recipients[0].email_address.as_deref(),
            Some("a@example.no")
        );
        let n = checked(serde_json::json!({
            "customRecipients": [],
            "customRecipient": r("b@example.no"),
            "customNotificationRecipients": [{"recipients": [r("c@example.no")]}]
        }))
        .unwrap();
        assert_eq!(
            n.custom_recipients[0].email_address.as_deref(),
            Some("b@example.no")
        );
        let n = checked(serde_json::json!({
            "customNotificationRecipients": [
                {"recipientToOverride": "x", "recipients": [r("c@example.no"), r("d@example.no")]},
                {"recipients": [r("e@example.no")]}
            ]
        }))
        .unwrap();
        let emails: Vec<&str> = n
            .custom_recipients
            .iter()
            .filter_map(|c| c.email_address.as_deref())
            .collect();
        assert_eq!(emails, ["c@example.no", "d@example.no"]);
    }

    #[test]
    fn custom_recipients_numbers_are_checked_and_blanks_dropped() {
        let n = checked(serde_json::json!({"customRecipients": [
            {"organizationNumber": "0192:991825827", "emailAddress": " "},
            {"nationalIdentityNumber": "08089403198", "mobileNumber": ""}
        ]}))
        .unwrap();
        assert_eq!(
            n.custom_recipients[0]
                .organization_number
                .as_ref()
                .map(OrgNumber::as_str),
            Some("991825827")
        );
        assert_eq!(n.custom_recipients[0].email_address, None);
        assert!(n.custom_recipients[1].national_identity_number.is_some());
        assert_eq!(n.custom_recipients[1].mobile_number, None);
        let errs = checked(serde_json::json!({"customRecipients": [
            {"organizationNumber": "991825828"},
            {"nationalIdentityNumber": "08089403199"}
        ]}))
        .unwrap_err();
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "Correspondence/Notification/CustomRecipients[0]/OrganizationNumber",
                "Correspondence/Notification/CustomRecipients[1]/NationalIdentityNumber"
            ]
        );
        assert_eq!(
            errs[1].message,
            "The given Recipient national identity number is not valid"
        );
        let errs = checked(serde_json::json!({"customRecipient": {"organizationNumber": "1"}}))
            .unwrap_err();
        assert_eq!(
            errs[0].path,
            "Correspondence/Notification/CustomRecipient/OrganizationNumber"
        );
    }
}
