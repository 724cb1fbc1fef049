//! The webhook served over plain HTTP (axum), for the local stack and the integration tests.
//! Lambda uses `functions/webhook`, which calls the same [`WebhookHandler::handle`].

use crate::webhook::{WebhookHandler, MAX_BODY_BYTES};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::sync::Arc;

/// `POST /webhook/{municipality}` → [`WebhookHandler::handle`].
pub fn router(handler: Arc<WebhookHandler>) -> Router {
    Router::new()
        .route("/webhook/{municipality}", post(webhook))
        // Let the handler see (and answer 413 to) bodies just over its own limit.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES * 2))
        .with_state(handler)
}

async fn webhook(
    State(handler): State<Arc<WebhookHandler>>,
    Path(municipality): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // HeaderMap lookups are case-insensitive, as LINE's header name must be matched.
    let signature = headers
        .get("x-line-signature")
        .and_then(|v| v.to_str().ok());
    let answer = handler.handle(&municipality, signature, &body).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        answer.body,
    )
        .into_response()
}
