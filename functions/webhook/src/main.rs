//! Lambda entry point for LINE webhooks: `POST /webhook/{municipality}` on the HTTP API.
//! Everything happens in `kizuna_app::webhook`; this only adapts API Gateway's request.

use kizuna_app::clock::SystemClock;
use kizuna_app::webhook::WebhookHandler;
use kizuna_aws::{compose, telemetry, AwsClients, Config};
use lambda_http::{service_fn, Body, Error, Request, RequestExt, Response};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    // Built once per execution environment and reused by warm invocations (clients, the
    // secret cache, LINE tokens), with its connections opened now if KIZUNA_WARM_UP_AT_INIT.
    let config = Config::from_env()?;
    let clients = AwsClients::for_lambda(&config)?;
    let handler =
        Arc::new(compose::webhook_handler_at_init(&config, &clients, Arc::new(SystemClock)).await?);
    lambda_http::run(service_fn(move |request| {
        let handler = handler.clone();
        async move { handle(&handler, request).await }
    }))
    .await
}

async fn handle(handler: &WebhookHandler, request: Request) -> Result<Response<Body>, Error> {
    let municipality = request
        .path_parameters_ref()
        .and_then(|p| p.first("municipality"))
        .map(str::to_owned)
        .unwrap_or_else(|| last_segment(request.uri().path()));
    // HeaderMap lookups are case-insensitive, as LINE's header must be matched.
    let signature = request
        .headers()
        .get("x-line-signature")
        .and_then(|v| v.to_str().ok());
    let answer = handler
        .handle(&municipality, signature, request.body().as_ref())
        .await;
    Ok(Response::builder()
        .status(answer.status)
        .header("content-type", "application/json")
        .body(Body::from(answer.body))?)
}

fn last_segment(path: &str) -> String {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn municipality_falls_back_to_the_last_path_segment() {
        assert_eq!(super::last_segment("/webhook/kizuna-town"), "kizuna-town");
        assert_eq!(super::last_segment("/webhook/kizuna-town/"), "kizuna-town");
    }
}
