//! The correspondence endpoints (reference §4.1–4.9).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use melding_api_types::correspondence::{
    CorrespondenceContentExt, CorrespondenceDetailsExt, CorrespondenceOverviewExt,
    CorrespondenceReplyOptionExt, CorrespondenceStatusEventExt, CorrespondencesExt,
    ExternalReferenceExt, InitializeCorrespondencesExt, InitializeCorrespondencesResponseExt,
    InitializedCorrespondencesExt, ValidInitializeCorrespondences,
};
use melding_api_types::forwarding::CorrespondenceForwardingEventExt;
use melding_api_types::notification::{
    Choice, InitializedCorrespondencesNotificationsExt, ValidNotification,
};
use melding_api_types::{FieldError, ProblemDetails, ValidationProblem};
use melding_core::initialize::ContentInput;
use melding_core::notify::OrderView;
use melding_core::{
    CustomRecipient, InitializeRequest, LetterView, NotificationRequest, Principal,
    ReminderLanguage, Rule,
};
use melding_domain::notification::{
    DeliveryChannel, Notification, NotificationStatus, OrderKind, OrderRecipient,
};
use melding_domain::{CorrespondenceId, Party};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Policy};
use crate::error::ApiError;
use crate::extract::{check_accept, guid, json_body};
use crate::search_query::search_request;
use crate::{AppState, JSON_BODY_LIMIT};

const JSON: &[&str] = &["application/json"];
const TEXT: &[&str] = &["text/plain"];

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(initialize, search))
        .routes(routes!(overview))
        .routes(routes!(details))
        .routes(routes!(mark_as_read))
        .routes(routes!(confirm))
        .routes(routes!(purge))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
}

/// The recipient-facing text endpoints (content, confidential reminders), on their own so that
/// CORS applies to them alone (reference §1, CORS).
pub(crate) fn content_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(content))
        .routes(routes!(confidential_reminders))
}

/// The gates every single-letter endpoint passes in Altinn's order: token and route policy
/// (401/403), the path id (400), then the `Accept` header (406).
fn letter_call(
    caller: &Caller,
    policy: Policy,
    id: &str,
    headers: &HeaderMap,
    produces: &'static [&'static str],
) -> Result<(Principal, CorrespondenceId), ApiError> {
    let principal = caller.authorize(policy)?;
    let id = guid(id, "correspondenceId")?;
    check_accept(headers, produces)?;
    Ok((principal, id))
}

/// A bare JSON string answer: `"<id>"`.
fn id_answer(id: CorrespondenceId) -> Json<String> {
    Json(id.to_string())
}

/// Initialize one correspondence per recipient.
#[utoipa::path(
    post, path = "/correspondence/api/v1/correspondence", tag = "Correspondence",
    request_body = InitializeCorrespondencesExt,
    responses(
        (status = 200, body = InitializeCorrespondencesResponseExt),
        (status = 403, description = "The token lacks altinn:correspondence.write: empty body"),
        (status = 400, description = "Validation problem or business rule", body = ProblemDetails),
        (status = 404, description = "Unknown recipients (CORR-01029)", body = ProblemDetails),
        (status = 409, description = "Idempotent key already used (CORR-01034)", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn initialize(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<InitializeCorrespondencesResponseExt>, ApiError> {
    let principal = caller.authorize(Policy::Sender)?;
    check_accept(&headers, JSON)?;
    let dto: InitializeCorrespondencesExt = json_body(&state.stats, &headers, &body)?;
    let valid = dto.validate().map_err(ApiError::Validation)?;
    let req = to_initialize_request(valid)?;
    let done = state.melding.initialize(&principal, req).await?;
    Ok(Json(initialized_dto(done)))
}

pub(crate) fn initialized_dto(
    done: melding_core::Initialized,
) -> InitializeCorrespondencesResponseExt {
    InitializeCorrespondencesResponseExt {
        correspondences: done
            .letters
            .into_iter()
            .map(|l| InitializedCorrespondencesExt {
                correspondence_id: l.id.as_uuid(),
                status: l.status.name().to_owned(),
                recipient: l.recipient,
                // Altinn's `null` when there are none (reference §4.1).
                notifications: (!l.orders.is_empty()).then(|| {
                    l.orders
                        .iter()
                        .map(|o| InitializedCorrespondencesNotificationsExt {
                            order_id: Some(o.id),
                            is_reminder: Some(o.kind == OrderKind::Reminder),
                            status: "Success".to_owned(),
                        })
                        .collect()
                }),
            })
            .collect(),
        attachment_ids: done.attachment_ids,
    }
}

/// Builds the use case's request from a body that passed the model checks.
///
/// Errors: [`Rule::InvalidNotificationTemplate`] for a notification template integer the
/// reference does not define, which the reference refuses here, after the model checks and
/// before any business rule (§2.2).
pub(crate) fn to_initialize_request(
    valid: ValidInitializeCorrespondences,
) -> Result<InitializeRequest, ApiError> {
    let c = valid.correspondence;
    let notification = c.notification.map(notification_request).transpose()?;
    Ok(InitializeRequest {
        resource_id: c.resource_id,
        senders_reference: c.senders_reference,
        message_sender: c.message_sender,
        content: ContentInput {
            language: c.content.language,
            title: c.content.title,
            summary: c.content.summary,
            body: c.content.body,
        },
        requested_publish_time: c.requested_publish_time,
        due_date_time: c.due_date_time,
        external_references: c.external_references,
        property_list: c.property_list,
        reply_options: c.reply_options,
        ignore_reservation: c.ignore_reservation,
        is_confirmation_needed: c.is_confirmation_needed,
        is_confidential: c.is_confidential,
        allow_forwarding: c.allow_forwarding,
        digital_only: c.digital_only,
        recipients: valid.recipients,
        existing_attachments: valid.existing_attachments,
        new_attachments: c
            .content
            .attachments
            .into_iter()
            .map(crate::attachment::attachment_request)
            .collect(),
        files: None,
        idempotent_key: valid.idempotent_key,
        notification,
    })
}

/// The use case's notification request from the checked DTO.
fn notification_request(n: ValidNotification) -> Result<NotificationRequest, Rule> {
    let template = match n.template {
        Choice::Defined(t) => t,
        Choice::Undefined(_) => return Err(Rule::InvalidNotificationTemplate),
    };
    Ok(NotificationRequest {
        template,
        channel: n.channel,
        email_subject: n.email_subject,
        email_body: n.email_body,
        email_content_type: n.email_content_type,
        sms_body: n.sms_body,
        send_reminder: n.send_reminder,
        reminder_channel: n.reminder_channel,
        reminder_email_subject: n.reminder_email_subject,
        reminder_email_body: n.reminder_email_body,
        reminder_email_content_type: n.reminder_email_content_type,
        reminder_sms_body: n.reminder_sms_body,
        custom_recipients: n
            .custom_recipients
            .into_iter()
            .map(|r| CustomRecipient {
                email_address: r.email_address,
                mobile_number: r.mobile_number,
                organization_number: r.organization_number,
                national_identity_number: r.national_identity_number,
            })
            .collect(),
        override_registered_contact_information: n.override_registered_contact_information,
    })
}

/// The overview of one letter. A recipient opening it logs Fetched.
#[utoipa::path(
    get, path = "/correspondence/api/v1/correspondence/{correspondenceId}", tag = "Correspondence",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = CorrespondenceOverviewExt),
        (status = 403, description = "The token has neither altinn:correspondence.write nor altinn:correspondence.read: empty body"),
        (status = 404, description = "Not found, not yet visible or purged (CORR-01001)", body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn overview(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<CorrespondenceOverviewExt>, ApiError> {
    let (principal, id) = letter_call(&caller, Policy::SenderOrRecipient, &id, &headers, JSON)?;
    let access = state.melding.letter_access(&principal, id).await?;
    let view = state.melding.overview(access).await?;
    Ok(Json(overview_dto(&view, true)))
}

/// The overview plus the status history.
#[utoipa::path(
    get, path = "/correspondence/api/v1/correspondence/{correspondenceId}/details", tag = "Correspondence",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = CorrespondenceDetailsExt),
        (status = 403, description = "The token has neither altinn:correspondence.write nor altinn:correspondence.read: empty body"),
        (status = 404, body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn details(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<CorrespondenceDetailsExt>, ApiError> {
    let (principal, id) = letter_call(&caller, Policy::SenderOrRecipient, &id, &headers, JSON)?;
    let access = state.melding.letter_access(&principal, id).await?;
    let view = state.melding.details(access).await?;
    let mut overview = overview_dto(&view, false);
    overview.notifications = view
        .notifications
        .iter()
        .map(|o| notification_details(&view, o))
        .collect();
    Ok(Json(CorrespondenceDetailsExt {
        overview,
        status_history: view
            .history
            .iter()
            .map(|e| CorrespondenceStatusEventExt {
                status: e.status.name().to_owned(),
                status_text: e.text.clone(),
                status_changed: e.at,
            })
            .collect(),
        forwarding_events: view
            .forwarding_events
            .iter()
            .map(|e| CorrespondenceForwardingEventExt {
                forwarding_event_id: e.id.as_uuid(),
                forwarded_on_date: e.forwarded_on,
                forwarded_by_party: e.forwarded_by.clone(),
                forwarding_text: e.forwarding_text.clone(),
                forwarded_to_email_address: e.to_email.as_str().to_owned(),
                mailbox_supplier: None,
                email_sent: e.sent,
            })
            .collect(),
        system_label: "Default".into(),
    }))
}

/// The message body as markdown, for the recipient; the first reading logs Read.
#[utoipa::path(
    get, path = "/correspondence/api/v1/correspondence/{correspondenceId}/content", tag = "Correspondence",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, content_type = "text/plain", body = String),
        (status = 403, description = "The token lacks altinn:correspondence.read: empty body"),
        (status = 404, body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn content(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (principal, id) = letter_call(&caller, Policy::Recipient, &id, &headers, TEXT)?;
    let access = state.melding.letter_access(&principal, id).await?;
    let view = state.melding.content(access).await?;
    let body = body_with_reply_options(&view);
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

/// The caller organisation's confidential letters that are still unopened the reminder delay
/// (7 days by default) after publication, as markdown text in nb, nn or en (reference §4.15):
/// an intro, one numbered line per letter (sender, publish date, the service it needs access
/// to), a closing line. 401/4006 when the token speaks for no organisation; 404/1062 when there
/// is nothing to list; 400 for a `languageCode` other than nb, nn or en. Errors are
/// ProblemDetails (the reference's 406 with an empty body here is a quirk it says not to copy,
/// §2.1).
#[utoipa::path(
    get, path = "/correspondence/api/v1/confidential-reminders", tag = "Correspondence",
    params(("languageCode" = Option<String>, Query, description = "nb (the default), nn or en")),
    responses(
        (status = 200, content_type = "text/plain", body = String),
        (status = 400, body = ValidationProblem),
        (status = 403, description = "The token lacks altinn:correspondence.read: empty body"),
        (status = 404, body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn confidential_reminders(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let principal = caller.authorize(Policy::Recipient)?;
    let language = match params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("languageCode"))
    {
        None => ReminderLanguage::default(),
        Some((_, v)) => ReminderLanguage::from_code(v).ok_or_else(|| {
            ApiError::from(FieldError::new(
                "languageCode",
                format!("The value '{v}' is not valid for languageCode."),
            ))
        })?,
    };
    check_accept(&headers, TEXT)?;
    let text = state
        .melding
        .confidential_reminders(&principal, language)
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// Mark as read; the letter must have been fetched.
#[utoipa::path(
    post, path = "/correspondence/api/v1/correspondence/{correspondenceId}/markasread", tag = "Correspondence",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = String, description = "The correspondence id"),
        (status = 403, description = "The token lacks altinn:correspondence.read: empty body"),
        (status = 400, description = "Not fetched (CORR-01024) or already read (CORR-01040)", body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn mark_as_read(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<String>, ApiError> {
    let (principal, id) = letter_call(&caller, Policy::Recipient, &id, &headers, JSON)?;
    let access = state.melding.recipient_access(&principal, id).await?;
    Ok(id_answer(state.melding.mark_as_read(access).await?))
}

/// Confirm; takes effect at once.
#[utoipa::path(
    post, path = "/correspondence/api/v1/correspondence/{correspondenceId}/confirm", tag = "Correspondence",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = String, description = "The correspondence id"),
        (status = 403, description = "The token lacks altinn:correspondence.read: empty body"),
        (status = 400, description = "Not fetched (CORR-01025) or already confirmed (CORR-01041)", body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<String>, ApiError> {
    let (principal, id) = letter_call(&caller, Policy::Recipient, &id, &headers, JSON)?;
    let access = state.melding.recipient_access(&principal, id).await?;
    Ok(id_answer(state.melding.confirm(access).await?))
}

/// Purge: the sender before publishing, the recipient after (confirmed first if required).
#[utoipa::path(
    delete, path = "/correspondence/api/v1/correspondence/{correspondenceId}/purge", tag = "Correspondence",
    params(("correspondenceId" = uuid::Uuid, Path)),
    responses(
        (status = 200, body = String, description = "The correspondence id"),
        (status = 403, description = "The token has neither altinn:correspondence.write nor altinn:correspondence.read: empty body"),
        (status = 400, description = "CORR-01013, 01014, 01026", body = ProblemDetails),
        (status = 404, body = ProblemDetails),
    ),
    security(("bearer" = []))
)]
async fn purge(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<String>, ApiError> {
    let (principal, id) = letter_call(&caller, Policy::SenderOrRecipient, &id, &headers, JSON)?;
    let access = state.melding.letter_access(&principal, id).await?;
    Ok(id_answer(state.melding.purge(access).await?))
}

/// Search letters by resource, role and party, newest first. Up to 1000 ids a page; `limit`
/// and `cursor` (Melding additions) page further.
#[utoipa::path(
    get, path = "/correspondence/api/v1/correspondence", tag = "Correspondence",
    params(
        ("resourceId" = String, Query),
        ("role" = String, Query, description = "Recipient, Sender or RecipientAndSender (or 0/1/2)"),
        ("from" = Option<String>, Query, description = "Exclusive lower bound on requestedPublishTime"),
        ("to" = Option<String>, Query, description = "Exclusive upper bound on requestedPublishTime"),
        ("status" = Option<String>, Query, description = "Has ever had this status"),
        ("onBehalfOf" = Option<String>, Query),
        ("sendersReference" = Option<String>, Query),
        ("idempotentKey" = Option<String>, Query),
        ("altinn2CorrespondenceId" = Option<i64>, Query, description = "A letter migrated from Altinn 2; Melding holds none, so the answer is empty"),
        ("limit" = Option<u32>, Query, description = "Page size, 1–1000 (default 1000)"),
        ("cursor" = Option<String>, Query, description = "nextCursor from the previous page"),
    ),
    responses(
        (status = 200, body = CorrespondencesExt),
        (status = 403, description = "The token has neither altinn:correspondence.write nor altinn:correspondence.read: empty body"),
        (status = 400, body = ValidationProblem),
    ),
    security(("bearer" = []))
)]
async fn search(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<CorrespondencesExt>, ApiError> {
    let principal = caller.authorize(Policy::SenderOrRecipient)?;
    let req = search_request(&params)?;
    check_accept(&headers, JSON)?;
    let found = state.melding.search(&principal, req).await?;
    Ok(Json(CorrespondencesExt {
        ids: found.ids.into_iter().map(|i| i.as_uuid()).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// Altinn appends the reply options to the body when there are more than three.
fn body_with_reply_options(view: &LetterView) -> String {
    let s = &view.letter.settings;
    let body = s.content.body.clone();
    if s.reply_options.len() <= 3 {
        return body;
    }
    let label = match s.content.language.to_ascii_lowercase().as_str() {
        "nn" => "Svarval:",
        "en" => "Reply options:",
        _ => "Svarvalg:",
    };
    let lines: Vec<String> = s
        .reply_options
        .iter()
        .map(|o| format!("{}: {}", o.text.as_deref().unwrap_or(""), o.url))
        .collect();
    format!("{body}\n\n{label}\n{}", lines.join("\n"))
}

fn overview_dto(view: &LetterView, reply_appendix: bool) -> CorrespondenceOverviewExt {
    let l = &view.letter;
    let s = &l.settings;
    let content = if view.show_content {
        CorrespondenceContentExt {
            language: s.content.language.clone(),
            message_title: s.content.title.clone(),
            message_summary: s.content.summary.clone(),
            message_body: if reply_appendix {
                body_with_reply_options(view)
            } else {
                s.content.body.clone()
            },
            attachments: view
                .attachments
                .iter()
                .map(crate::attachment::letter_attachment_dto)
                .collect(),
        }
    } else {
        // After publishing, the content belongs to the recipient (Altinn answers "no" here).
        CorrespondenceContentExt {
            language: "no".into(),
            message_title: String::new(),
            message_summary: String::new(),
            message_body: String::new(),
            attachments: vec![],
        }
    };
    CorrespondenceOverviewExt {
        resource_id: s.resource_id.to_string(),
        sender: l.sender_urn(),
        senders_reference: s.senders_reference.clone(),
        message_sender: view.sender_name.clone(),
        content,
        requested_publish_time: s.requested_publish_time,
        due_date_time: s.due_date_time,
        external_references: s
            .external_references
            .iter()
            .map(|r| ExternalReferenceExt {
                reference_value: r.value.clone(),
                reference_type: r.kind,
            })
            .collect(),
        property_list: s.property_list.clone(),
        reply_options: s
            .reply_options
            .iter()
            .map(|o| CorrespondenceReplyOptionExt {
                link_url: o.url.clone(),
                link_text: o.text.clone(),
            })
            .collect(),
        notification: None,
        ignore_reservation: s.ignore_reservation,
        is_confirmation_needed: s.is_confirmation_needed,
        is_confidential: s.is_confidential,
        allow_forwarding: s.allow_forwarding,
        recipient: l.recipient.urn(),
        correspondence_id: l.id.as_uuid(),
        created: l.created,
        status: view.current.status.name().to_owned(),
        status_text: view.current.text.clone(),
        status_changed: view.current.at,
        notifications: view
            .notifications
            .iter()
            .map(|o| {
                serde_json::json!({
                    "notificationOrderId": o.record.order.id,
                    "isReminder": o.record.order.kind == OrderKind::Reminder,
                })
            })
            .collect(),
        altinn2_correspondence_id: None,
        published: l.published,
        read: view.read_at(),
    }
}

/// One order as the details answer lists it (reference §4.4): Altinn's shipment shape, with the
/// order's id standing in for the shipment id (Melding sends its own notifications, so order
/// and shipment are one). Orders not yet processed are listed too, as `Order_Registered` with no
/// recipients yet. Addresses are shown whole, as the reference shows them.
fn notification_details(view: &LetterView, o: &OrderView) -> serde_json::Value {
    let order = &o.record.order;
    let letter = &view.letter;
    let (org, nin) = match &order.recipient {
        OrderRecipient::Party(Party::Organization(n)) => (Some(n.to_string()), None),
        OrderRecipient::Party(Party::Person(n)) => (None, Some(n.to_string())),
        _ => (None, None),
    };
    let detail = |n: &Notification| {
        let (email, mobile) = match n.channel {
            DeliveryChannel::Email => (n.address.clone(), None),
            DeliveryChannel::Sms => (None, n.address.clone()),
        };
        serde_json::json!({
            "id": n.id,
            "succeeded": n.status.is_sent(),
            "recipient": {
                "emailAddress": email,
                "mobileNumber": mobile,
                "organizationNumber": org,
                "nationalIdentityNumber": nin,
                "isReserved": n.status == NotificationStatus::FailedRecipientReserved,
            },
            "sendStatus": {
                "status": n.status.wire(n.channel),
                "description": n.detail,
                "lastUpdate": n.delivered.or(n.sent).unwrap_or(n.created),
            },
            "notificationSent": n.sent,
        })
    };
    let on = |c: DeliveryChannel| -> Vec<serde_json::Value> {
        o.notifications
            .iter()
            .filter(|n| n.channel == c)
            .map(detail)
            .collect()
    };
    let (emails, smses) = (on(DeliveryChannel::Email), on(DeliveryChannel::Sms));
    serde_json::json!({
        "id": order.id,
        "notificationOrderId": order.id,
        "sendersReference": format!("corr-{}", letter.settings.senders_reference),
        "created": order.created,
        "isReminder": order.kind == OrderKind::Reminder,
        "notificationChannel": order.channel.name(),
        "ignoreReservation": order.ignore_reservation,
        "resourceId": letter.settings.resource_id.to_string(),
        "requestedSendTime": order.requested_send_time,
        "processingStatus": {
            "status": order.status.wire(),
            "description": null,
            "lastUpdate": o.record.processed.unwrap_or(order.created),
        },
        "notificationStatusDetails": {
            "email": emails.last(),
            "sms": smses.last(),
            "emails": emails,
            "smses": smses,
        },
    })
}
