//! Decoding DocSpace answers (docspace-api.md §0.5, §0.6): the success envelope, the
//! exception envelope, validation problems inside the success envelope, and the empty
//! bodies of the pipeline's 401/403/404/429. Pure functions over status, headers and
//! bytes, so the recorded wire fixtures test them without a server.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// A decoded success envelope.
#[derive(Debug)]
pub struct Envelope<T> {
    /// `response`, absent for void actions (and for reassign progress with no job).
    pub response: Option<T>,
    /// `total`, when the endpoint sets it. `count` is deliberately not kept: it is
    /// unreliable for streamed results (docspace-api.md §0.5).
    pub total: Option<u64>,
}

/// Decodes an answer: `status` and `retry_after` from the HTTP layer, `body` as sent.
pub fn decode<T: DeserializeOwned>(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
) -> Result<Envelope<T>, ApiError> {
    let json: Option<Value> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice(body).ok()
    };
    if (200..300).contains(&status) {
        let Some(Value::Object(mut envelope)) = json else {
            if status == 204 {
                return Ok(Envelope {
                    response: None,
                    total: None,
                });
            }
            return Err(unexpected(status, "a success without a JSON envelope"));
        };
        if envelope.get("status").and_then(Value::as_i64) == Some(1) {
            return Err(validation(envelope.remove("response")));
        }
        let total = envelope.get("total").and_then(Value::as_u64);
        let response = match envelope.remove("response") {
            None | Some(Value::Null) => None,
            Some(value) => Some(serde_json::from_value(value).map_err(|e| {
                unexpected(
                    status,
                    &format!("the response does not have the expected shape: {e}"),
                )
            })?),
        };
        return Ok(Envelope { response, total });
    }
    let message = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        // An empty message says as much as none (the client never tells "" from null).
        .filter(|m| !m.trim().is_empty())
        .map(str::to_owned);
    Err(match status {
        400 => match json {
            Some(Value::Object(mut envelope)) if envelope.contains_key("response") => {
                validation(envelope.remove("response"))
            }
            _ => ApiError::BadRequest {
                message: message.unwrap_or_else(|| "no details".into()),
            },
        },
        401 => ApiError::Unauthorized,
        403 => ApiError::Forbidden { message },
        404 => ApiError::NotFound { message },
        429 => ApiError::RateLimited {
            retry_after: retry_after
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        },
        500..=599 => ApiError::Server { status, message },
        _ => unexpected(status, message.as_deref().unwrap_or("an unexpected status")),
    })
}

fn validation(problem: Option<Value>) -> ApiError {
    let errors: BTreeMap<String, Vec<String>> = problem
        .as_ref()
        .and_then(|p| p.get("errors"))
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_default();
    ApiError::Validation { errors }
}

fn unexpected(status: u16, detail: &str) -> ApiError {
    ApiError::UnexpectedShape {
        status,
        detail: detail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recorded answer: `tests/fixtures/docspace/<name>.json` holds
    /// `{"status": …, "headers": {…}, "body": <JSON or a string>}`.
    fn fixture(name: &str) -> (u16, Option<String>, Vec<u8>) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/docspace")
            .join(format!("{name}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let recorded: Value = serde_json::from_str(&text).expect("fixture JSON");
        let status = recorded["status"].as_u64().expect("status") as u16;
        let retry = recorded["headers"]["Retry-After"]
            .as_str()
            .map(str::to_owned);
        let body = match &recorded["body"] {
            Value::String(s) => s.clone().into_bytes(),
            Value::Null => Vec::new(),
            other => serde_json::to_vec(other).expect("body"),
        };
        (status, retry, body)
    }

    fn decoded<T: DeserializeOwned>(name: &str) -> Result<Envelope<T>, ApiError> {
        let (status, retry, body) = fixture(name);
        decode(status, retry.as_deref(), &body)
    }

    #[test]
    fn success_envelopes_give_their_response_and_total() {
        let page: Envelope<Vec<Value>> = decoded("people-filter").unwrap();
        assert_eq!(page.response.unwrap().len(), 2);
        assert_eq!(page.total, Some(250));
    }

    #[test]
    fn a_void_action_has_no_response() {
        let none: Envelope<Value> = decoded("reassign-progress-none").unwrap();
        assert!(none.response.is_none());
    }

    #[test]
    fn streamed_results_are_read_by_length_not_count() {
        let status: Envelope<Vec<Value>> = decoded("status-disable").unwrap();
        assert_eq!(
            status.response.unwrap().len(),
            2,
            "the envelope says count 1"
        );
    }

    #[test]
    fn validation_problems_are_errors_despite_the_success_shape() {
        match decoded::<Value>("validation-count") {
            Err(ApiError::Validation { errors }) => {
                assert_eq!(
                    errors["count"],
                    vec!["The field Count must be between 1 and 100."]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn exceptions_carry_the_servers_message() {
        assert_eq!(
            decoded::<Value>("user-not-found").unwrap_err(),
            ApiError::NotFound {
                message: Some("The user could not be found".into())
            }
        );
        assert_eq!(
            decoded::<Value>("status-access-denied").unwrap_err(),
            ApiError::Forbidden {
                message: Some("Access denied".into())
            }
        );
        assert_eq!(
            decoded::<Value>("reassign-from-active").unwrap_err(),
            ApiError::BadRequest {
                message:
                    "Can not reassign data from user with id = 4c3b0f9e-2b1d-4c55-8f0a-1e2d3c4b5a69"
                        .into()
            }
        );
        assert!(matches!(
            decoded::<Value>("key-delete-unknown").unwrap_err(),
            ApiError::Server { status: 500, .. }
        ));
    }

    #[test]
    fn pipeline_statuses_have_empty_bodies() {
        assert_eq!(
            decoded::<Value>("unauthorized").unwrap_err(),
            ApiError::Unauthorized
        );
        assert_eq!(
            decoded::<Value>("no-route").unwrap_err(),
            ApiError::NotFound { message: None }
        );
        assert_eq!(
            decoded::<Value>("rate-limited").unwrap_err(),
            ApiError::RateLimited {
                retry_after: Some(Duration::from_secs(17))
            }
        );
    }

    /// TaskProgressResponseDto.Get (products/ASC.People/Server/ApiModels/ResponseDto/
    /// TaskProgressResponseDto.cs): `error` is `""` when the job has none, never absent
    /// (DistributedTask.Exception's getter wraps `_exeption`, default `string.Empty`).
    #[test]
    fn a_reassign_job_without_an_error_says_so_with_an_empty_string() {
        use crate::docspace::model::{Progress, task_status};
        let running: Progress = decoded("reassign-progress-running")
            .unwrap()
            .response
            .unwrap();
        assert_eq!(running.failure(), None);
        assert!(!running.succeeded());
        let completed: Progress = decoded("reassign-progress-completed")
            .unwrap()
            .response
            .unwrap();
        assert_eq!(completed.failure(), None, "\"error\": \"\" is no error");
        assert!(completed.succeeded());
        let failed: Progress = decoded("reassign-progress-failed")
            .unwrap()
            .response
            .unwrap();
        assert_eq!(failed.status, task_status::FAILED);
        assert_eq!(
            failed.failure(),
            Some("Can not reassign data to user with id = 4a515a15-d4d6-4b8e-828e-e0586f18f3a3")
        );
        assert!(!failed.succeeded());
        // Other portals (or proxies) may send null or nothing: the same as "".
        for error in [r#""error": null,"#, "", r#""error": "  ","#] {
            let body = format!(
                r#"{{"response": {{"id": "x", {error} "percentage": 100, "isCompleted": true, "status": 2}}, "status": 0, "statusCode": 200}}"#
            );
            let progress: Progress = decode(200, None, body.as_bytes())
                .unwrap()
                .response
                .unwrap();
            assert!(progress.succeeded(), "{body}");
        }
    }

    /// Rooms and folders of third-party storage have string ids (`FolderDto<string>`,
    /// products/ASC.Files/Core/ApiModels/ResponseDto/FolderDto.cs): lists the client
    /// only counts, and operations it only polls, must still decode.
    #[test]
    fn string_ids_of_third_party_folders_do_not_break_counts_or_operations() {
        use crate::docspace::model::{Operation, Total};
        let rooms = br#"{"response": {"files": [], "folders": [{"id": "sbox-1|/Room", "title": "Box room", "roomType": 5}], "current": {"id": 14, "title": "Rooms"}, "total": 1}, "count": 1, "status": 0, "statusCode": 200}"#;
        let total: Total = decode(200, None, rooms).unwrap().response.unwrap();
        assert_eq!(total.total, 1);
        let operations = br#"{"response": [{"id": "op", "Operation": 0, "progress": 100, "error": "", "processed": "1", "finished": true, "status": 2, "folders": [{"id": "sbox-1|/Moved", "title": "Moved"}]}], "count": 1, "status": 0, "statusCode": 200}"#;
        let listed: Vec<Operation> = decode(200, None, operations).unwrap().response.unwrap();
        assert_eq!((listed[0].finished, listed[0].failure()), (true, None));
    }

    #[test]
    fn an_empty_exception_message_is_no_message() {
        assert_eq!(
            decode::<Value>(
                403,
                None,
                br#"{"error": {"message": ""}, "status": 1, "statusCode": 403}"#
            )
            .unwrap_err(),
            ApiError::Forbidden { message: None }
        );
    }

    #[test]
    fn a_wrong_shape_is_reported_not_guessed() {
        assert!(matches!(
            decode::<Vec<Value>>(
                200,
                None,
                br#"{"response": {"not": "a list"}, "count": 1, "status": 0, "statusCode": 200}"#
            ),
            Err(ApiError::UnexpectedShape { status: 200, .. })
        ));
        assert!(matches!(
            decode::<Value>(200, None, b"<html>proxy</html>"),
            Err(ApiError::UnexpectedShape { .. })
        ));
        assert!(matches!(
            decode::<Value>(502, None, b"<html>Bad Gateway</html>"),
            Err(ApiError::Server {
                status: 502,
                message: None
            })
        ));
    }
}
