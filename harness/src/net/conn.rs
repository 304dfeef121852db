//! Opening connections to the target: DNS (once per connection, so a name
//! that moves is followed), TCP, and TLS where the URL says `https`, each
//! timed apart from the requests that use them. A certificate problem is
//! its own error kind and is explained once, with the fix.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use genbench_collectors::connections::ConnEvent;
use genbench_model::ErrorKind;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::url::TargetUrl;

/// A connection to the target, plain or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// Whether ALPN settled on HTTP/2.
    pub fn is_h2(&self) -> bool {
        match self {
            Stream::Plain(_) => false,
            Stream::Tls(t) => t.get_ref().1.alpn_protocol() == Some(b"h2"),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, b),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, b),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// A connection attempt that failed: the error kind to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectFailed(pub ErrorKind);

struct Tls {
    connector: TlsConnector,
    name: ServerName<'static>,
}

/// Most connection attempts in progress at once, across all workers.
///
/// Without a cap, a burst of requests that find no idle connection (the
/// start of a 20,000/s run, or a target that stalls for a moment) opens one
/// connection each; a one-core server then spends itself accepting them,
/// answers slower, more requests find no idle connection, and the run
/// opened thousands of connections and timed some out (seen at 20,000/s
/// against nginx). Waiting for a slot counts in those requests' latency,
/// never in `connect_ms`.
pub const MAX_CONNECTING: usize = 64;

/// Opens connections to one target; shared by every worker.
pub struct Connector {
    host: String,
    port: u16,
    tls: Option<Tls>,
    /// The first TLS failure is explained on stderr; the rest are counted.
    told: AtomicBool,
    connecting: tokio::sync::Semaphore,
}

impl Connector {
    /// For `url`; `tls` is the run's client configuration for `https`.
    pub fn new(url: &TargetUrl, tls: Option<Arc<ClientConfig>>) -> Result<Self, String> {
        let tls = match tls {
            Some(cfg) => Some(Tls {
                connector: TlsConnector::from(cfg),
                name: super::tls::server_name(&url.host)?,
            }),
            None => None,
        };
        let (host, port) = url.connect_to();
        Ok(Connector {
            host,
            port,
            tls,
            told: AtomicBool::new(false),
            connecting: tokio::sync::Semaphore::new(MAX_CONNECTING),
        })
    }

    /// A connector that explains nothing: for a probe, whose failure the
    /// run's own connections will explain.
    pub fn quiet(self) -> Self {
        self.told.store(true, Ordering::Relaxed);
        self
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    async fn tcp(&self) -> io::Result<TcpStream> {
        // An IP literal parses without a lookup; a name resolves afresh for
        // each connection. Every address is tried in turn.
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for addr in tokio::net::lookup_host((self.host.as_str(), self.port)).await? {
            match TcpStream::connect(addr).await {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// A new connection and how it was set up.
    pub async fn connect(&self) -> Result<(Stream, ConnEvent), ConnectFailed> {
        // Never closed, so acquiring fails only if it were.
        let _slot = self
            .connecting
            .acquire()
            .await
            .map_err(|_| ConnectFailed(ErrorKind::Connect))?;
        let start = Instant::now();
        let tcp = self
            .tcp()
            .await
            .map_err(|_| ConnectFailed(ErrorKind::Connect))?;
        // Requests go out whole in one write; no need to wait for more.
        tcp.set_nodelay(true)
            .map_err(|_| ConnectFailed(ErrorKind::Connect))?;
        let connect = start.elapsed();
        let Some(tls) = &self.tls else {
            let e = ConnEvent::Opened {
                connect,
                tls: None,
                resumed: false,
            };
            return Ok((Stream::Plain(tcp), e));
        };
        let hs = Instant::now();
        match tls.connector.connect(tls.name.clone(), tcp).await {
            Ok(s) => {
                let resumed =
                    s.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
                let e = ConnEvent::Opened {
                    connect,
                    tls: Some(hs.elapsed()),
                    resumed,
                };
                Ok((Stream::Tls(Box::new(s)), e))
            }
            Err(e) => {
                // rustls reports certificate and protocol problems as
                // InvalidData; anything else is the connection dropping.
                if e.kind() != io::ErrorKind::InvalidData {
                    return Err(ConnectFailed(ErrorKind::Connect));
                }
                self.explain_once(&e.to_string());
                Err(ConnectFailed(ErrorKind::Tls))
            }
        }
    }

    fn explain_once(&self, err: &str) {
        if !self.told.swap(true, Ordering::Relaxed) {
            eprintln!(
                "error: TLS handshake with {}:{} failed: {err}\n  fix: {}\n  (further TLS failures are counted as errors of kind `tls`, not printed)",
                self.host,
                self.port,
                super::tls::advice(err)
            );
        }
    }
}
