use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Melding — Correspondence API v1",
        description = "Wire-compatible with Altinn 3 Correspondence API v1. Errors are RFC 7807 ProblemDetails with CORR- codes."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "Correspondence", description = "Send, read, confirm and purge letters"),
        (name = "Notifications", description = "Send conditions and SMS delivery reports"),
        (name = "Receipts", description = "The delivery chain's receipts in SvarUt's vocabulary (Melding additions)")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // The SMS gateway's delivery-report webhook (`crate::notification`).
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

/// Where the reference serves its API docs (reference §0, "Swagger"): the UI at
/// `…/swagger/index.html`, the document at `…/swagger/v1/swagger.json`.
const SWAGGER_UI: &str = "/correspondence/api/v1/swagger";
use crate::SWAGGER_PATH as SWAGGER_DOCUMENT;

/// The OpenAPI document and Swagger UI to browse it, whose files are compiled into the binary
/// (`utoipa-swagger-ui`'s `vendored` feature), so the page loads nothing from elsewhere.
pub(crate) fn swagger<S: Clone + Send + Sync + 'static>(
    doc: utoipa::openapi::OpenApi,
) -> axum::Router<S> {
    utoipa_swagger_ui::SwaggerUi::new(SWAGGER_UI)
        .url(SWAGGER_DOCUMENT, doc)
        .into()
}

pub(crate) fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Documents the 401 of every operation that needs a token as it is sent (reference §1.3): an
/// empty body and `WWW-Authenticate: Bearer` when the token is missing or not trusted, a
/// ProblemDetails when a trusted token lacks access. (Each operation with a scope gate lists
/// its 403, with an empty body, itself.) Runs on the merged document, after the routes.
pub(crate) fn document_unauthorized(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{HeaderBuilder, ObjectBuilder, ResponseBuilder, Type};
    let unauthorized = ResponseBuilder::new()
        .description(
            "Missing, expired or untrusted bearer token: empty body and `WWW-Authenticate: \
             Bearer`. A trusted token that names no party (CORR-04006) or has no access to the \
             resource or letter (CORR-04001) gets a ProblemDetails body instead.",
        )
        .header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some("`Bearer`, when the token is missing or not trusted"))
                .build(),
        )
        .build();
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            let bearer = op.security.as_ref().is_some_and(|reqs| {
                reqs.iter().any(|r| {
                    serde_json::to_value(r)
                        .ok()
                        .is_some_and(|v| v.get("bearer").is_some())
                })
            });
            if bearer {
                op.responses
                    .responses
                    .insert("401".into(), unauthorized.clone().into());
            } else if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                op.responses.responses.insert(
                    "401".into(),
                    ResponseBuilder::new()
                        .description("Missing or wrong HTTP Basic credentials: empty body")
                        .header(
                            "WWW-Authenticate",
                            HeaderBuilder::new()
                                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                                .description(Some("`Basic realm=…`"))
                                .build(),
                        )
                        .build()
                        .into(),
                );
            }
        }
    }
}
