//! Server under test for the BlackBull conformance suite: hyper 1 (HTTP/1.1, h2c with
//! prior knowledge, h2 over TLS by ALPN) and tokio-tungstenite for WebSocket.
//!
//! Contract (conformance/targets/README.md): GET and POST `/` answer 200 with a non-empty
//! body (h2spec); a WebSocket upgrade on any path (RFC 6455 §4) or an extended CONNECT
//! with `:protocol websocket` (RFC 8441 §4) echoes every text and binary message.
//!
//! Usage: bb-peer-rust --host 127.0.0.1 --port 8080 [--cert server.pem --key server.key]
use std::convert::Infallible;
use std::sync::Arc;

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
use tokio_tungstenite::tungstenite::protocol::Role;
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

async fn echo<S>(ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut tx, mut rx) = ws.split();
    while let Some(message) = rx.next().await {
        match message {
            Ok(m) if m.is_text() || m.is_binary() => {
                if tx.send(m).await.is_err() {
                    break;
                }
            }
            // Pings are answered and Close echoed by tungstenite itself (RFC 6455 §5.5).
            Ok(_) => {
                let _ = tx.flush().await;
            }
            Err(_) => break,
        }
    }
}

fn upgrade_to_echo(req: Request<Incoming>) {
    tokio::spawn(async move {
        if let Ok(upgraded) = hyper::upgrade::on(req).await {
            let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                .await;
            echo(ws).await;
        }
    });
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
        upgrade_to_echo(req);
        return Ok(Response::new(Full::new(Bytes::new())));
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
        upgrade_to_echo(req);
        let mut r = reply(StatusCode::SWITCHING_PROTOCOLS, "");
        let h = r.headers_mut();
        h.insert(UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(SEC_WEBSOCKET_ACCEPT, HeaderValue::from_str(&accept).expect("base64"));
        return Ok(r);
    }
    // Read the whole request body before answering (POST / for h2spec).
    let _ = req.into_body().collect().await;
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
            builder.http2().enable_connect_protocol();
            let service = hyper::service::service_fn(handle);
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(tcp).await {
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
