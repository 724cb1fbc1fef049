//! Passing an HTTP request on to an upstream unchanged, for the local proxies that sit in front
//! of the emulator or the fake LINE (the chaos suite's fault proxy, the CPU bench's counting
//! proxies).

use axum::body::{Body, Bytes};
use axum::http::{request::Parts, HeaderMap, HeaderName, Response, StatusCode};

/// An upstream's answer: status, end-to-end headers, body.
pub type Answer = (StatusCode, HeaderMap, Bytes);

/// Headers that belong to one connection, not to the request: never passed on.
pub fn is_hop_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host" | "content-length" | "transfer-encoding" | "connection" | "keep-alive"
    )
}

/// Sends the request (`parts` and its `body`) to `upstream` with the same method, path, query
/// and end-to-end headers, and returns the answer.
pub async fn relay(
    http: &reqwest::Client,
    upstream: &str,
    parts: &Parts,
    body: Bytes,
) -> Result<Answer, reqwest::Error> {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut forwarded = http
        .request(parts.method.clone(), format!("{upstream}{path}"))
        .body(body);
    for (name, value) in &parts.headers {
        if !is_hop_header(name) {
            forwarded = forwarded.header(name, value);
        }
    }
    let answer = forwarded.send().await?;
    let status = answer.status();
    let mut headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !is_hop_header(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    let bytes = answer.bytes().await?;
    Ok((status, headers, bytes))
}

/// The response that hands `answer` back to the client.
pub fn response((status, headers, bytes): Answer) -> Response<Body> {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
