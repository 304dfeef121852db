//! A test PKI (a CA and leaf certificates made with rcgen, good, expired or
//! for another name) and an HTTP server on 127.0.0.1:0, plain or TLS, that
//! speaks HTTP/1.1 and HTTP/2 (ALPN, or prior knowledge on plain TCP) and
//! records what it saw.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        Pki {
            ca: CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A leaf for `names` (DNS names or IPs); `expired`: valid in 2020 only.
    pub fn leaf(&self, names: &[&str], expired: bool) -> Leaf {
        let mut p = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
        if expired {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2020, 12, 31);
        }
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &self.ca).unwrap();
        Leaf {
            chain: vec![cert.der().clone(), self.ca.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

/// What one request looked like on arrival.
#[derive(Debug, Clone)]
pub struct Seen {
    pub version: Version,
    pub path: String,
    pub authorization: Option<String>,
}

pub struct Server {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// `/redirect` → 302 to `/final`; `/away` → 302 off the origin; `/close`
/// answers with `connection: close`; `/json` a JSON body; anything else
/// `hello` with `x-cache: HIT`.
async fn answer(req: Request<Incoming>) -> Response<Full<Bytes>> {
    let b = Response::builder();
    // Under a base path the same routes answer.
    let path = req.uri().path();
    let r = match path.strip_prefix("/api").unwrap_or(path) {
        "/redirect" => b.status(302).header("location", "/final"),
        "/away" => b
            .status(302)
            .header("location", "http://elsewhere.invalid/x"),
        "/close" => b.header("connection", "close"),
        "/json" => {
            return b
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(
                    br#"{"status": "ok", "n": 3}"#,
                )))
                .unwrap();
        }
        _ => b.header("x-cache", "HIT"),
    };
    r.body(Full::new(Bytes::from_static(b"hello"))).unwrap()
}

/// Serves on 127.0.0.1:0: TLS with `leaf` offering `alpn`, or plain TCP.
pub async fn serve(tls: Option<(Leaf, &[&[u8]])>) -> Server {
    serve_at("127.0.0.1:0", tls).await
}

/// As [`serve`], bound to `bind` (e.g. `[::1]:0`).
pub async fn serve_at(bind: &str, tls: Option<(Leaf, &[&[u8]])>) -> Server {
    let acceptor = tls.map(|(leaf, alpn)| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(leaf.chain, leaf.key)
            .unwrap();
        cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
    });
    let l = TcpListener::bind(bind).await.unwrap();
    let server = Server {
        addr: l.local_addr().unwrap(),
        accepted: Arc::default(),
        seen: Arc::default(),
    };
    let (accepted, seen) = (server.accepted.clone(), server.seen.clone());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let seen = seen.clone();
                    async move {
                        seen.lock().unwrap().push(Seen {
                            version: req.version(),
                            path: req.uri().path().to_string(),
                            authorization: req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(String::from),
                        });
                        Ok::<_, Infallible>(answer(req).await)
                    }
                });
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                match acceptor {
                    Some(a) => {
                        // A failed handshake is what some tests are about.
                        let Ok(tls) = a.accept(tcp).await else { return };
                        let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(tcp), svc).await;
                    }
                }
            });
        }
    });
    server
}
