//! A loopback HTTP/1.1 server that answers 200 to everything and logs
//! each request with the instant its first bytes arrived.

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub body: String,
    pub authorization: String,
    pub row: String,
}

pub type Log = Arc<Mutex<Vec<Seen>>>;

/// A server that answers everything with 200 and logs each request with
/// the instant its first bytes were read: a thread per connection, so no
/// request waits behind another's parsing. Its URL.
pub fn logging_server() -> (String, Log) {
    let log: Log = Arc::default();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let shared = log.clone();
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            let log = shared.clone();
            std::thread::spawn(move || serve_conn(conn, &log));
        }
    });
    (url, log)
}

/// Reads requests off one kept-alive connection until it closes.
fn serve_conn(mut conn: std::net::TcpStream, log: &Log) {
    use std::io::{Read, Write};
    let _ = conn.set_nodelay(true);
    let (mut buf, mut chunk) = (Vec::new(), [0u8; 64 << 10]);
    loop {
        let mut at = None;
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    at.get_or_insert_with(Instant::now);
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.lines();
        let mut first = lines.next().unwrap_or("").split(' ');
        let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
        let header = |name: &str| {
            head.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map_or(String::new(), |(_, v)| v.trim().to_string())
        };
        let len: usize = header("content-length").parse().unwrap_or(0);
        while buf.len() < head_end + len {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        log.lock().unwrap().push(Seen {
            at: at.unwrap_or_else(Instant::now),
            method: method.to_string(),
            path: path.to_string(),
            body: String::from_utf8_lossy(&buf[head_end..head_end + len]).into_owned(),
            authorization: header("authorization"),
            row: header("x-row"),
        });
        buf.drain(..head_end + len);
        if conn
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .is_err()
        {
            return;
        }
    }
}
