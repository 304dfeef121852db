//! Request bodies: size limits and JSON errors that say what is wrong, in
//! OpenAI's error format, without ever dropping the connection.

use axum::body::Body;
use axum::http::StatusCode;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// How much of an oversize body is read and thrown away so the client can
/// finish sending and read the 413 on a live connection. Past this the
/// connection is closed, which is the only defence against endless bodies.
const DRAIN_CAP_BYTES: usize = 256 * 1024 * 1024;

/// Reads the whole body, refusing more than `limit` bytes with a 413.
pub async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = body;
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::invalid(format!("could not read the request body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen += data.len();
        if seen <= limit {
            buf.extend_from_slice(&data);
        } else if seen > DRAIN_CAP_BYTES {
            break;
        }
    }
    if seen > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!(
                "Request body is {seen} bytes; the limit is {limit} bytes. \
                 Send a smaller request or start the mock with a larger --max-body-bytes."
            ),
        )
        .code("request_too_large"));
    }
    Ok(buf)
}

/// Parses JSON into `T`, naming the offending field on type errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            "The request body is empty; send a JSON object (Content-Type: application/json).",
        ));
    }
    // Syntax first, so a malformed body is reported as such and not as a
    // type error at some path.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::invalid(format!(
            "We could not parse the JSON body of your request ({e}). \
             The API expects a JSON payload; check that the body is valid JSON."
        ))
    })?;
    if !value.is_object() {
        return Err(ApiError::invalid("The request body must be a JSON object."));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            ApiError::invalid(format!("Invalid request body: {inner}."))
        } else {
            ApiError::invalid(format!("Invalid value for '{path}': {inner}.")).param(&path)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Req {
        model: String,
        max_tokens: Option<u32>,
    }

    #[test]
    fn missing_field_names_it() {
        let e = parse_json::<Req>(br#"{"max_tokens": 3}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("missing field `model`"), "{}", e.message);
    }

    #[test]
    fn wrong_type_names_the_path() {
        let e = parse_json::<Req>(br#"{"model": "m", "max_tokens": "many"}"#).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("max_tokens"));
    }

    #[test]
    fn malformed_and_empty_and_non_object() {
        assert!(
            parse_json::<Req>(b"{\"model\":")
                .unwrap_err()
                .message
                .contains("could not parse")
        );
        assert!(
            parse_json::<Req>(b"  ")
                .unwrap_err()
                .message
                .contains("empty")
        );
        assert!(
            parse_json::<Req>(b"[1]")
                .unwrap_err()
                .message
                .contains("JSON object")
        );
    }

    #[tokio::test]
    async fn oversize_is_413_after_draining() {
        let body = Body::from(vec![b'x'; 2048]);
        let e = read_limited(body, 1024).await.unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(read_limited(Body::from("{}"), 1024).await.is_ok());
    }
}
