//! Server under test for the BlackBull conformance suite: hyper 1 (HTTP/1.1, h2c with
//! prior knowledge, h2 over TLS by ALPN) and tokio-tungstenite for WebSocket.
//!
//! Contract (conformance/targets/README.md): GET and POST `/` answer 200 with a non-empty
//! body (h2spec); a WebSocket upgrade on any path (RFC 6455 §4) or an extended CONNECT
//! with `:protocol websocket` (RFC 8441 §4) echoes every text and binary message.
//!
//! With $INTEROP_REPORT_DIR set (the RFC 8441 matrix sets it) the WebSocket side follows the
//! matrix's app contract (conformance/interop/app.py): subprotocols chat/superchat,
//! `?version`, `?subprotocol`, `close:<code>`; GET / serves the Chromium page (rendered once
//! by conformance.interop.page with $INTEROP_PYTHON) and POST /report stores its results.
//! BB_PEER_CONNECT_PROTOCOL=0 withholds SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
//!
//! Usage: bb-peer-rust --host 127.0.0.1 --port 8080 [--cert server.pem --key server.key]
use std::convert::Infallible;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type Reply = Response<Full<Bytes>>;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn tls_acceptor(cert: &str, key: &str) -> tokio_rustls::TlsAcceptor {
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(cert).expect("open --cert"),
    ))
    .collect::<Result<Vec<_>, _>>()
    .expect("read --cert");
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(key).expect("open --key"),
    ))
    .expect("read --key")
    .expect("no private key in --key");
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("certificate and key");
    // RFC 9113 §3.2: h2 is chosen by ALPN; HTTP/1.1 stays available for WebSocket.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

const KNOWN_SUBPROTOCOLS: [&str; 2] = ["chat", "superchat"];

fn interop() -> bool {
    std::env::var_os("INTEROP_REPORT_DIR").is_some()
}

/// The first offered subprotocol the matrix's app knows (interop mode only).
fn choose_subprotocol(req: &Request<Incoming>) -> Option<&'static str> {
    if !interop() {
        return None;
    }
    let offered: Vec<String> = req
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
        .collect();
    KNOWN_SUBPROTOCOLS.into_iter().find(|k| offered.iter().any(|o| o == k))
}

async fn echo<S>(ws: WebSocketStream<S>, http_version: &'static str, subprotocol: Option<&str>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let interop = interop();
    let (mut tx, mut rx) = ws.split();
    while let Some(message) = rx.next().await {
        let reply = match message {
            Ok(Message::Text(text)) if interop && text.as_str() == "?version" => {
                Message::text(format!("version:{http_version}"))
            }
            Ok(Message::Text(text)) if interop && text.as_str() == "?subprotocol" => {
                Message::text(subprotocol.unwrap_or("-"))
            }
            Ok(Message::Text(text))
                if interop && text.as_str().strip_prefix("close:").is_some_and(
                    |c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit())) =>
            {
                let code: u16 = text.as_str()[6..].parse().unwrap_or(1000);
                Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: "".into() }))
            }
            Ok(m) if m.is_text() || m.is_binary() => m,
            // Pings are answered and Close echoed by tungstenite itself (RFC 6455 §5.5).
            Ok(_) => {
                let _ = tx.flush().await;
                continue;
            }
            Err(_) => break,
        };
        if tx.send(reply).await.is_err() {
            break;
        }
    }
}

fn upgrade_to_echo(req: Request<Incoming>, http_version: &'static str,
                   subprotocol: Option<&'static str>) {
    tokio::spawn(async move {
        if let Ok(upgraded) = hyper::upgrade::on(req).await {
            let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                .await;
            echo(ws, http_version, subprotocol).await;
        }
    });
}

/// The matrix's Chromium page, rendered once by conformance.interop.page.
fn interop_page() -> Bytes {
    static PAGE: OnceLock<Bytes> = OnceLock::new();
    PAGE.get_or_init(|| {
        let python = std::env::var("INTEROP_PYTHON").unwrap_or_else(|_| "python3".into());
        let out = std::process::Command::new(python)
            .args(["-c", "from conformance.interop.page import render_page; print(render_page(), end='')"])
            .output();
        Bytes::from(out.map(|o| o.stdout).unwrap_or_default())
    })
    .clone()
}

fn store_report(run: &str, body: &[u8]) -> (StatusCode, &'static str) {
    let dir = std::env::var_os("INTEROP_REPORT_DIR");
    let valid = !run.is_empty()
        && run.len() <= 80
        && run.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    match dir {
        Some(dir) if valid => {
            let target = std::path::Path::new(&dir).join(format!("{run}.json"));
            let tmp = target.with_extension("tmp");
            if std::fs::write(&tmp, body).and_then(|_| std::fs::rename(&tmp, &target)).is_ok() {
                (StatusCode::OK, "stored\n")
            } else {
                (StatusCode::INTERNAL_SERVER_ERROR, "could not store\n")
            }
        }
        _ => (StatusCode::BAD_REQUEST, "no INTEROP_REPORT_DIR or bad x-run\n"),
    }
}

fn reply(status: StatusCode, body: &'static str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r
}

async fn handle(req: Request<Incoming>) -> Result<Reply, Infallible> {
    // RFC 8441 §4: the extended CONNECT carries :protocol; success is a 2xx, no upgrade headers.
    if req.method() == Method::CONNECT {
        let is_ws = req
            .extensions()
            .get::<hyper::ext::Protocol>()
            .is_some_and(|p| p.as_str().eq_ignore_ascii_case("websocket"));
        if !is_ws {
            return Ok(reply(StatusCode::BAD_REQUEST, "unsupported CONNECT\n"));
        }
        let subprotocol = choose_subprotocol(&req);
        upgrade_to_echo(req, "2", subprotocol);
        let mut r = Response::new(Full::new(Bytes::new()));
        if let Some(p) = subprotocol {
            r.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(p));
        }
        return Ok(r);
    }
    // RFC 6455 §4.2.2: answer the upgrade with 101 and Sec-WebSocket-Accept.
    let wants_ws = req
        .headers()
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_ws {
        let Some(key) = req.headers().get(SEC_WEBSOCKET_KEY).cloned() else {
            return Ok(reply(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key\n"));
        };
        let accept = derive_accept_key(key.as_bytes());
        let subprotocol = choose_subprotocol(&req);
        upgrade_to_echo(req, "1.1", subprotocol);
        let mut r = reply(StatusCode::SWITCHING_PROTOCOLS, "");
        let h = r.headers_mut();
        if let Some(p) = subprotocol {
            h.insert("sec-websocket-protocol", HeaderValue::from_static(p));
        }
        h.insert(UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(SEC_WEBSOCKET_ACCEPT, HeaderValue::from_str(&accept).expect("base64"));
        return Ok(r);
    }
    // Read the whole request body before answering (POST / for h2spec).
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let run = req.headers().get("x-run").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if interop() && method == Method::GET && (path == "/" || path == "/index.html") {
        let mut r = Response::new(Full::new(interop_page()));
        r.headers_mut().insert("content-type", HeaderValue::from_static("text/html; charset=utf-8"));
        return Ok(r);
    }
    if interop() && method == Method::POST && path == "/report" {
        let (status, text) = store_report(&run, &body);
        return Ok(reply(status, text));
    }
    Ok(reply(StatusCode::OK, "hello from hyper\n"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let host = arg(&args, "--host").unwrap_or_else(|| "127.0.0.1".into());
    let port = arg(&args, "--port").unwrap_or_else(|| "8080".into());
    let tls = match (arg(&args, "--cert"), arg(&args, "--key")) {
        (Some(c), Some(k)) => Some(tls_acceptor(&c, &k)),
        _ => None,
    };
    let listener = TcpListener::bind(format!("{host}:{port}")).await.expect("bind");
    eprintln!("bb-peer-rust listening on {host}:{port} tls={}", tls.is_some());
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let tls = tls.clone();
        tokio::spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            // RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL=1 unless told to withhold it.
            if std::env::var("BB_PEER_CONNECT_PROTOCOL").as_deref() != Ok("0") {
                builder.http2().enable_connect_protocol();
            }
            let service = hyper::service::service_fn(handle);
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(tcp).await {
                        // RFC 9113 §3.2: after ALPN "h2" only the HTTP/2 preface is valid; the
                        // auto-detection would answer anything else as HTTP/1.1.
                        if stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice()) {
                            builder = builder.http2_only();
                        }
                        let _ = builder
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .await;
                    }
                }
                None => {
                    let _ = builder
                        .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                        .await;
                }
            }
        });
    }
}
