//! Local HTTP servers that behave like GitHub's REST API and Vercel's deploy hooks: they answer
//! with the recorded payloads in `fixtures/` and record every request for the tests to inspect.
#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};

use super::support::repo_root;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.to_string().into_bytes(),
        }
    }
}

type Handler = dyn Fn(&Recorded, &str) -> Reply + Send + Sync;

/// A server on 127.0.0.1 in its own thread; the handler gets each request and the server's base
/// URL (for Link headers).
pub struct FakeServer {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeServer {
    pub fn start(handler: impl Fn(&Recorded, &str) -> Reply + Send + Sync + 'static) -> FakeServer {
        let handler: Arc<Handler> = Arc::new(handler);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", std_listener.local_addr().unwrap());
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let recorded = requests.clone();
        let base = url.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                loop {
                    let stream = tokio::select! {
                        _ = &mut stop => return,
                        accepted = listener.accept() => accepted.unwrap().0,
                    };
                    let handler = handler.clone();
                    let recorded = recorded.clone();
                    let base = base.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                            let handler = handler.clone();
                            let recorded = recorded.clone();
                            let base = base.clone();
                            async move {
                                let method = req.method().to_string();
                                let path = req
                                    .uri()
                                    .path_and_query()
                                    .map(|p| p.to_string())
                                    .unwrap_or_default();
                                let authorization = req
                                    .headers()
                                    .get("authorization")
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_string);
                                let body = req.into_body().collect().await.unwrap().to_bytes();
                                let request = Recorded {
                                    method,
                                    path,
                                    authorization,
                                    body: String::from_utf8_lossy(&body).into_owned(),
                                };
                                recorded.lock().unwrap().push(request.clone());
                                let reply = handler(&request, &base);
                                let mut response = Response::builder().status(reply.status);
                                for (name, value) in reply.headers {
                                    response = response.header(name, value);
                                }
                                Ok::<_, Infallible>(
                                    response.body(Full::new(Bytes::from(reply.body))).unwrap(),
                                )
                            }
                        });
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    });
                }
            });
        });
        FakeServer {
            url,
            requests,
            shutdown: Some(shutdown),
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

pub fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join("fixtures").join(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// GitHub's state as far as the gate can see it.
#[derive(Default)]
pub struct GitHubState {
    /// (id, body) of PR 42's comments, oldest first.
    pub comments: Vec<(u64, String)>,
    /// Fork PR: the token is read-only, writes answer 403.
    pub read_only: bool,
    /// Files of PR 42.
    pub files: Vec<(String, String)>,
    pub check_runs: HashMap<u64, usize>,
    pub next_id: u64,
    /// GitHub is down: every request answers this status.
    pub broken: Option<u16>,
    /// The next this-many comment creations store the comment, then answer 502 (GitHub's proxy
    /// timing out after the work was done).
    pub create_then_502: usize,
    /// The same for check-run creations.
    pub check_create_then_502: usize,
    /// The next this-many check-run updates append their annotations, then answer 502.
    pub check_update_then_502: usize,
    /// `external_id` of each check run, by id.
    pub check_run_external_ids: HashMap<u64, String>,
    /// A proxy in front of GitHub fails: every request answers this status with its HTML page.
    pub proxy_error: Option<u16>,
    /// Writes answer 403 as GitHub does when the token's rate limit is used up.
    pub rate_limited: bool,
}

pub struct FakeGitHub {
    pub server: FakeServer,
    pub state: Arc<Mutex<GitHubState>>,
}

const REPO: &str = "/repos/acme/shop";

fn query_param(path: &str, key: &str) -> Option<usize> {
    let query = path.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// A page of `items` as GitHub serves it: `per_page` (max 100), `page`, and a Link header.
fn paginate(items: Vec<Value>, request: &Recorded, base: &str) -> Reply {
    let per_page = query_param(&request.path, "per_page")
        .unwrap_or(30)
        .min(100);
    let page = query_param(&request.path, "page").unwrap_or(1).max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut reply = Reply::json(200, &Value::Array(slice));
    let path = request.path.split('?').next().unwrap();
    let link =
        |p: usize, rel: &str| format!("<{base}{path}?per_page={per_page}&page={p}>; rel=\"{rel}\"");
    let mut links = Vec::new();
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
        links.push(link(page - 1, "prev"));
    }
    if !links.is_empty() {
        reply.headers.push(("link".into(), links.join(", ")));
    }
    reply
}

fn comment_json(id: u64, body: &str) -> Value {
    let mut comment = fixture("github/issue_comment.json");
    comment["id"] = json!(id);
    comment["body"] = json!(body);
    comment["url"] = json!(format!(
        "https://api.github.com/repos/acme/shop/issues/comments/{id}"
    ));
    comment["html_url"] = json!(format!(
        "https://github.com/acme/shop/pull/42#issuecomment-{id}"
    ));
    comment
}

/// GitHub's 422 for an annotation field over its 64 KB limit (`message`, `raw_details`).
fn oversized_annotation(body: &Value) -> Option<Reply> {
    let annotations = body["output"]["annotations"].as_array()?;
    let too_long = annotations.iter().any(|a| {
        ["message", "raw_details"]
            .iter()
            .any(|field| a[field].as_str().is_some_and(|text| text.len() > 65_535))
    });
    too_long.then(|| {
        Reply::json(
            422,
            &json!({"message": "Invalid request.\n\nraw_details is too long (maximum is 65535 characters)."}),
        )
    })
}

fn forbidden() -> Reply {
    Reply::json(403, &fixture("github/error_403_integration.json"))
}

impl FakeGitHub {
    pub fn start(state: GitHubState) -> FakeGitHub {
        let state = Arc::new(Mutex::new(GitHubState {
            next_id: state.next_id.max(1_000_000),
            ..state
        }));
        let shared = state.clone();
        let server = FakeServer::start(move |request, base| {
            let mut state = shared.lock().unwrap();
            let path = request.path.split('?').next().unwrap();
            // GitHub Enterprise Server serves the same API under /api/v3.
            let path = path.strip_prefix("/api/v3").unwrap_or(path).to_string();
            if let Some(status) = state.broken {
                return Reply::json(status, &json!({"message": "Server Error"}));
            }
            if let Some(status) = state.proxy_error {
                return Reply {
                    status,
                    headers: vec![("content-type".into(), "text/html".into())],
                    body: format!(
                        "<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>{status} Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
                    )
                    .into_bytes(),
                };
            }
            if state.rate_limited && request.method != "GET" {
                let mut reply = Reply::json(
                    403,
                    &json!({"message": "API rate limit exceeded for installation ID 4242.", "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}),
                );
                reply
                    .headers
                    .push(("x-ratelimit-remaining".into(), "0".into()));
                reply
                    .headers
                    .push(("x-ratelimit-reset".into(), "1893456000".into()));
                return reply;
            }
            let comments_path = format!("{REPO}/issues/42/comments");
            let files_path = format!("{REPO}/pulls/42/files");
            let checks_path = format!("{REPO}/check-runs");
            match (request.method.as_str(), path.as_str()) {
                ("GET", p) if p == comments_path => {
                    let items = state
                        .comments
                        .iter()
                        .map(|(id, body)| comment_json(*id, body))
                        .collect();
                    paginate(items, request, base)
                }
                ("POST", p) if p == comments_path => {
                    if state.read_only {
                        return forbidden();
                    }
                    state.next_id += 1;
                    let id = state.next_id;
                    let body = request.json()["body"].as_str().unwrap().to_string();
                    state.comments.push((id, body.clone()));
                    if state.create_then_502 > 0 {
                        state.create_then_502 -= 1;
                        return Reply::json(502, &json!({"message": "Server Error"}));
                    }
                    Reply::json(201, &comment_json(id, &body))
                }
                ("PATCH", p) if p.starts_with(&format!("{REPO}/issues/comments/")) => {
                    if state.read_only {
                        return forbidden();
                    }
                    let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                    let body = request.json()["body"].as_str().unwrap().to_string();
                    match state.comments.iter_mut().find(|(cid, _)| *cid == id) {
                        Some(comment) => {
                            comment.1 = body.clone();
                            Reply::json(200, &comment_json(id, &body))
                        }
                        None => Reply::json(404, &json!({"message": "Not Found"})),
                    }
                }
                ("GET", p) if p == files_path => {
                    let items = state
                        .files
                        .iter()
                        .map(|(name, status)| {
                            let mut file = fixture("github/pull_file.json");
                            file["filename"] = json!(name);
                            file["status"] = json!(status);
                            file
                        })
                        .collect();
                    paginate(items, request, base)
                }
                ("POST", p) if p == checks_path => {
                    if state.read_only {
                        return forbidden();
                    }
                    let body = request.json();
                    let count = body["output"]["annotations"].as_array().map_or(0, Vec::len);
                    if let Some(reply) = oversized_annotation(&body) {
                        return reply;
                    }
                    if count > 50 {
                        return Reply::json(
                            422,
                            &json!({"message": "Only 50 annotations per request"}),
                        );
                    }
                    state.next_id += 1;
                    let id = state.next_id;
                    state.check_runs.insert(id, count);
                    let external_id = body["external_id"].as_str().unwrap_or("").to_string();
                    state.check_run_external_ids.insert(id, external_id);
                    if state.check_create_then_502 > 0 {
                        state.check_create_then_502 -= 1;
                        return Reply::json(502, &json!({"message": "Server Error"}));
                    }
                    let mut run = fixture("github/check_run.json");
                    run["id"] = json!(id);
                    run["head_sha"] = body["head_sha"].clone();
                    run["output"]["annotations_count"] = json!(count);
                    Reply::json(201, &run)
                }
                ("PATCH", p) if p.starts_with(&format!("{checks_path}/")) => {
                    let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                    let count = request.json()["output"]["annotations"]
                        .as_array()
                        .map_or(0, Vec::len);
                    if let Some(reply) = oversized_annotation(&request.json()) {
                        return reply;
                    }
                    if count > 50 {
                        return Reply::json(
                            422,
                            &json!({"message": "Only 50 annotations per request"}),
                        );
                    }
                    let Some(total) = state.check_runs.get_mut(&id) else {
                        return Reply::json(404, &json!({"message": "Not Found"}));
                    };
                    *total += count;
                    let total = *total;
                    if state.check_update_then_502 > 0 {
                        state.check_update_then_502 -= 1;
                        return Reply::json(502, &json!({"message": "Server Error"}));
                    }
                    let mut run = fixture("github/check_run.json");
                    run["id"] = json!(id);
                    run["output"]["annotations_count"] = json!(total);
                    Reply::json(200, &run)
                }
                ("GET", p) if p.starts_with(&format!("{checks_path}/")) => {
                    let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                    let Some(total) = state.check_runs.get(&id) else {
                        return Reply::json(404, &json!({"message": "Not Found"}));
                    };
                    let mut run = fixture("github/check_run.json");
                    run["id"] = json!(id);
                    run["external_id"] = json!(state.check_run_external_ids[&id]);
                    run["output"]["annotations_count"] = json!(*total);
                    Reply::json(200, &run)
                }
                // Every check run of the commit (the fake has one commit).
                ("GET", p)
                    if p.starts_with(&format!("{REPO}/commits/")) && p.ends_with("/check-runs") =>
                {
                    let mut ids: Vec<&u64> = state.check_runs.keys().collect();
                    ids.sort();
                    let runs: Vec<Value> = ids
                        .into_iter()
                        .map(|id| {
                            let mut run = fixture("github/check_run.json");
                            run["id"] = json!(id);
                            run["external_id"] = json!(state.check_run_external_ids[id]);
                            run["output"]["annotations_count"] = json!(state.check_runs[id]);
                            run
                        })
                        .collect();
                    Reply::json(200, &json!({"total_count": runs.len(), "check_runs": runs}))
                }
                _ => Reply::json(
                    404,
                    &json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
                ),
            }
        });
        FakeGitHub { server, state }
    }
}
