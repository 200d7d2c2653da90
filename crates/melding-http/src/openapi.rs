use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Melding — Correspondence API v1",
        description = "Wire-compatible with Altinn 3 Correspondence API v1. Errors are RFC 7807 ProblemDetails with CORR- codes."
    ),
    modifiers(&BearerAuth),
    tags((name = "Correspondence", description = "Send, read, confirm and purge letters"))
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
    }
}

pub(crate) fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
