//! The Vercel deploy hook: one POST after a successful deploy or rollback. Network errors, 429
//! and 5xx are retried with exponential backoff; any other 4xx is final (a wrong or revoked hook
//! does not get better by retrying). The URL is a secret: it is never printed.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use crate::db::connection::secrets::redact_server_text;

/// What Vercel answers: `{"job": {"id": "…", "state": "PENDING", "createdAt": …}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookJob {
    pub id: String,
    pub state: String,
    /// Requests made, retries included.
    pub attempts: u32,
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total (first try included).
    pub attempts: u32,
    /// Delay before the first retry; doubled for each further one.
    pub base_delay: Duration,
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Deserialize)]
struct HookResponse {
    job: HookResponseJob,
}

#[derive(Deserialize)]
struct HookResponseJob {
    id: String,
    #[serde(default)]
    state: String,
}

enum Attempt {
    Done(HookJob),
    Retry(String),
    Fail(String),
}

/// POST the hook; `Err` is a one-line reason without the URL.
pub async fn trigger(url: &str, policy: &RetryPolicy) -> Result<HookJob, String> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| "the Vercel deploy hook URL is not a valid URL".to_string())?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("cannot load the system's TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let mut last = String::new();
    for attempt in 1..=policy.attempts.max(1) {
        if attempt > 1 {
            let delay = policy.base_delay * 2u32.pow(attempt - 2);
            println!(
                "::warning::Vercel deploy hook: {last}; retrying in {:.1}s (attempt {attempt} of {})",
                delay.as_secs_f64(),
                policy.attempts
            );
            tokio::time::sleep(delay).await;
        }
        match once(&client, &uri, policy.request_timeout).await {
            Attempt::Done(mut job) => {
                job.attempts = attempt;
                return Ok(job);
            }
            Attempt::Retry(reason) => last = reason,
            Attempt::Fail(reason) => return Err(reason),
        }
    }
    Err(format!(
        "{last} (gave up after {} attempts)",
        policy.attempts
    ))
}

async fn once<C>(client: &Client<C, Full<Bytes>>, uri: &hyper::Uri, timeout: Duration) -> Attempt
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let request = hyper::Request::post(uri.clone())
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("migration-gate/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from_static(b"{}")))
        .expect("static request parts are valid");
    // One deadline for the headers and the body: a server may stall after either.
    let deadline = tokio::time::Instant::now() + timeout;
    let no_answer = || Attempt::Retry(format!("no answer within {}s", timeout.as_secs()));
    let response = match tokio::time::timeout_at(deadline, client.request(request)).await {
        Err(_) => return no_answer(),
        Ok(Err(e)) => return Attempt::Retry(format!("network error ({})", error_kind(&e))),
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    let body = match tokio::time::timeout_at(deadline, response.into_body().collect()).await {
        Err(_) => return no_answer(),
        Ok(Ok(body)) => body.to_bytes(),
        Ok(Err(_)) => return Attempt::Retry(format!("answer {status} cut off")),
    };
    if status.is_success() {
        return match serde_json::from_slice::<HookResponse>(&body) {
            Ok(parsed) => Attempt::Done(HookJob {
                id: parsed.job.id,
                state: parsed.job.state,
                attempts: 0,
            }),
            Err(_) => Attempt::Fail(format!(
                "Vercel answered {status} without a job id: is this a Vercel deploy hook URL?"
            )),
        };
    }
    let detail = vercel_error_message(&body)
        .map(|message| {
            let secrets = hook_secrets(uri);
            format!(
                " ({})",
                redact_server_text(&message, secrets.iter().map(String::as_str))
            )
        })
        .unwrap_or_default();
    if status.as_u16() == 429 || status.is_server_error() {
        Attempt::Retry(format!("Vercel answered {status}{detail}"))
    } else {
        Attempt::Fail(format!(
            "Vercel answered {status}{detail}: check the deploy hook URL (Project Settings > Git > Deploy Hooks)"
        ))
    }
}

/// The parts of the hook URL a server may echo back: the URL, its path, and the hook id (its last
/// segment), which alone triggers deploys.
fn hook_secrets(uri: &hyper::Uri) -> Vec<String> {
    let path = uri.path();
    let hook_id = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let path_and_query = uri.path_and_query().map_or(path, |p| p.as_str());
    vec![
        uri.to_string(),
        path_and_query.to_string(),
        path.to_string(),
        hook_id.to_string(),
    ]
}

fn vercel_error_message(body: &[u8]) -> Option<String> {
    let body = serde_json::from_slice::<serde_json::Value>(body).ok()?;
    Some(body.pointer("/error/message")?.as_str()?.to_string())
}

fn error_kind(err: &hyper_util::client::legacy::Error) -> String {
    // The error's Display can contain the URL; describe only its kind.
    if err.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    }
}
