//! `GET /pages/{id}`: synthetic article pages with the boilerplate extraction
//! has to strip (navigation, cookie banner, ads, sidebar, footer).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::time::Instant;

use crate::faults::{Fate, Service};
use crate::presets::TokenizerKind;
use crate::rng::{Rng, hash_parts};
use crate::state::Shared;
use crate::text;

const MAX_WORDS: usize = 200_000;

pub fn router() -> Router<Shared> {
    Router::new().route("/pages/{id}", get(page))
}

fn html_error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html><head><title>{status}</title></head><body><h1>{status}</h1><p>{message}</p></body></html>"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The main text as paragraphs of about `words` tokens in all.
fn paragraphs(key: u64, words: usize) -> Vec<String> {
    let body = text::generate(TokenizerKind::O200kBase, key, words).concat();
    body.split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

const NAV: [&str; 8] = [
    "Home",
    "World",
    "Business",
    "Technology",
    "Science",
    "Health",
    "Opinion",
    "Subscribe",
];

/// The whole page; deterministic per (seed, id, words).
pub fn render_page(seed: u64, id: &str, words: usize) -> String {
    let key = hash_parts(seed, &["page", id]);
    let mut rng = Rng::new(key);
    let title = text::generate(TokenizerKind::O200kBase, key ^ 7, 8)
        .concat()
        .trim()
        .trim_end_matches('.')
        .to_string();
    let mut h = String::with_capacity(words * 8 + 4096);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title} | The Daily Mock</title>\n"
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<link rel=\"stylesheet\" href=\"/static/site.css\">\n");
    h.push_str("<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}</script>\n</head>\n<body>\n");
    h.push_str("<header class=\"site-header\">\n<a class=\"logo\" href=\"/\">The Daily Mock</a>\n<nav class=\"main-nav\"><ul>\n");
    for n in NAV {
        let _ = writeln!(
            h,
            "<li><a href=\"/section/{}\">{n}</a></li>",
            n.to_lowercase()
        );
    }
    h.push_str("</ul></nav>\n</header>\n");
    h.push_str("<div class=\"cookie-banner\" role=\"dialog\">We use cookies to personalise content and ads and to analyse our traffic. <button>Accept all</button> <button>Manage preferences</button></div>\n");
    h.push_str("<div class=\"ad ad-leaderboard\"><span>Advertisement</span><a href=\"/ads/click?id=1\">Upgrade your workflow today. Limited offer!</a></div>\n");
    let _ = write!(
        h,
        "<main>\n<article class=\"post\">\n<h1>{title}</h1>\n<p class=\"byline\">By Staff Writer &middot; {} min read</p>\n",
        1 + words / 250
    );
    let paras = paragraphs(key, words);
    let ad_at = paras.len() / 2;
    for (i, p) in paras.iter().enumerate() {
        if i == ad_at && i > 0 {
            h.push_str("<div class=\"ad ad-inline\"><span>Sponsored</span><p>Readers also bought: the number one productivity course of the year.</p></div>\n");
        }
        let _ = writeln!(h, "<p>{p}</p>");
    }
    h.push_str("</article>\n<aside class=\"sidebar\">\n<h3>Trending now</h3>\n<ul>\n");
    for i in 0..5 {
        let _ = writeln!(
            h,
            "<li><a href=\"/pages/{:012x}\">Trending story number {}</a></li>",
            rng.next_u64() >> 16,
            i + 1
        );
    }
    h.push_str("</ul>\n<div class=\"ad ad-sidebar\"><span>Advertisement</span></div>\n<form class=\"newsletter\"><label>Get the newsletter</label><input type=\"email\" placeholder=\"you@example.com\"><button>Sign up</button></form>\n</aside>\n</main>\n");
    h.push_str("<footer class=\"site-footer\">\n<ul><li><a href=\"/about\">About</a></li><li><a href=\"/privacy\">Privacy policy</a></li><li><a href=\"/terms\">Terms of use</a></li><li><a href=\"/contact\">Contact</a></li></ul>\n<p>&copy; 2026 The Daily Mock. All rights reserved.</p>\n</footer>\n</body>\n</html>\n");
    h
}

async fn page(
    State(st): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let start = Instant::now();
    let _guard = st.ledger.enter();
    if !valid_id(&id) {
        return html_error(
            StatusCode::NOT_FOUND,
            "Page ids are 1 to 128 letters, digits, '-' or '_'.",
        );
    }
    let words = match q.get("words").map(|w| w.parse::<usize>()) {
        None => st.web_preset().page_words,
        Some(Ok(w)) if (1..=MAX_WORDS).contains(&w) => w,
        Some(_) => {
            return html_error(
                StatusCode::BAD_REQUEST,
                &format!("words must be an integer from 1 to {MAX_WORDS}."),
            );
        }
    };
    let mut rng = st.faults.next_rng(Service::Web);
    let d = st.faults.decide(Service::Web, &mut rng);
    let ms = st.scaled_ms(st.web_preset().latency_ms.dist().sample(&mut rng)) + d.extra_ms;
    match d.fate {
        Fate::Error(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return html_error(status, "genbench mock: injected error fault");
        }
        Fate::Hang { ms } => {
            tokio::time::sleep_until(start + Duration::from_secs_f64(ms / 1000.0)).await;
            return html_error(
                StatusCode::GATEWAY_TIMEOUT,
                "genbench mock: injected hang fault",
            );
        }
        Fate::Normal => {}
    }
    tokio::time::sleep_until(start + Duration::from_secs_f64(ms.max(0.0) / 1000.0)).await;
    st.ledger.web_page();
    let html = render_page(st.config.seed, &id, words);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_has_boilerplate_around_the_main_text() {
        let h = render_page(1, "abc", 600);
        for part in [
            "<nav",
            "cookie-banner",
            "class=\"ad",
            "<article",
            "<footer",
            "<aside",
        ] {
            assert!(h.contains(part), "missing {part}");
        }
        assert_eq!(h, render_page(1, "abc", 600));
        assert_ne!(h, render_page(1, "abd", 600));
        assert!(render_page(1, "abc", 5000).len() > render_page(1, "abc", 500).len() * 5);
    }

    #[test]
    fn ids_are_validated() {
        assert!(valid_id("a1-_"));
        assert!(!valid_id(""));
        assert!(!valid_id("../etc"));
    }
}
