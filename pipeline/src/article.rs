//! One article, stage by stage: cache → search → fetch → extract → prompt →
//! LLM, timing every stage.

use std::time::Instant;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::app::App;
use crate::coalesce::Made;
use crate::error::{Failure, Stage, StageError};
use crate::extract::extract;
use crate::prompt::{Prompt, SourceText, build};
use crate::timings::LlmFacts;
use crate::timings::Timings;
use crate::types::{ArticleRequest, CachedArticle, SearchHit, Usage};

/// A generated (or cached) article.
#[derive(Debug, Clone)]
pub struct Article {
    pub cached: CachedArticle,
    pub usage: Usage,
    pub cost_usd: f64,
    /// Served without generating: from the cache, or from a concurrent
    /// request's generation (`coalesced`).
    pub cache_hit: bool,
    pub coalesced: bool,
    /// Tokens of source text in the prompt (0 on a cache hit).
    pub context_tokens: usize,
}

impl Article {
    pub fn json(&self, timings: &Timings) -> Value {
        let (t, trace) = timings.json();
        json!({
            "article": self.cached.article,
            "sources": self.cached.sources,
            "usage": self.usage,
            "cost_usd": self.cost_usd,
            "context_tokens": self.context_tokens,
            "cache": match (self.cache_hit, self.coalesced) {
                (_, true) => "coalesced",
                (true, false) => "hit",
                (false, false) => "miss",
            },
            "timings": t,
            "trace": trace,
        })
    }
}

pub fn cost(app: &App, u: &Usage, search_calls: u64) -> f64 {
    let p = &app.cfg.prices;
    let uncached = u.prompt_tokens.saturating_sub(u.cached_prompt_tokens) as f64;
    (uncached * p.input_usd_per_1m
        + u.cached_prompt_tokens as f64 * p.cached_input_usd_per_1m
        + u.completion_tokens as f64 * p.output_usd_per_1m)
        / 1e6
        + search_calls as f64 * p.search_usd_per_call
}

/// Cache lookup, counted as a hit or a miss; `Some` on a hit.
pub async fn lookup(app: &App, req: &ArticleRequest, tm: &mut Timings) -> Option<CachedArticle> {
    let hit = probe(app, req, tm).await;
    app.metrics.cache(hit.is_some());
    hit
}

/// Cache lookup, not yet counted.
async fn probe(app: &App, req: &ArticleRequest, tm: &mut Timings) -> Option<CachedArticle> {
    let start = Instant::now();
    let hit = app
        .cache
        .get(&req.cache_key(&app.cfg))
        .await
        .and_then(|s| serde_json::from_str(&s).ok());
    app.extra_delay(Stage::Cache).await;
    tm.record(Stage::Cache, start, &app.metrics);
    hit
}

/// Search, fetch, extract and prompt: everything before the LLM.
pub async fn gather(
    app: &App,
    req: &ArticleRequest,
    tm: &mut Timings,
) -> Result<(Prompt, Vec<SearchHit>), StageError> {
    let start = Instant::now();
    let hits = app.providers.search(&req.search_query()).await;
    tm.call(
        Stage::Search,
        &app.cfg.search_url,
        start,
        hits.as_ref().ok().map(|_| 200),
    );
    let hits = hits?;
    app.extra_delay(Stage::Search).await;
    tm.record(Stage::Search, start, &app.metrics);
    if hits.is_empty() {
        return Err(StageError::new(
            Stage::Search,
            Failure::BadResponse,
            "search returned no results",
        ));
    }

    let start = Instant::now();
    let pages = join_all(hits.iter().map(|h| async {
        let at = Instant::now();
        (at, app.providers.fetch(&h.url).await)
    }))
    .await;
    for (h, (at, p)) in hits.iter().zip(&pages) {
        tm.call(Stage::Fetch, &h.url, *at, p.as_ref().ok().map(|_| 200));
    }
    let pages = pages.into_iter().map(|(_, p)| p);
    app.extra_delay(Stage::Fetch).await;
    tm.record(Stage::Fetch, start, &app.metrics);
    // A page that fails is dropped; an article needs at least one.
    let fetched: Vec<(&SearchHit, String)> = hits
        .iter()
        .zip(pages)
        .filter_map(|(h, p)| p.ok().map(|html| (h, html)))
        .collect();
    if fetched.is_empty() {
        return Err(StageError::new(
            Stage::Fetch,
            Failure::Unavailable,
            format!("all {} source pages failed", hits.len()),
        ));
    }

    let start = Instant::now();
    let sources: Vec<SourceText> = fetched
        .iter()
        .map(|(h, html)| SourceText {
            title: h.title.clone(),
            url: h.url.clone(),
            page: extract(html),
        })
        .collect();
    app.extra_delay(Stage::Extract).await;
    tm.record(Stage::Extract, start, &app.metrics);

    let start = Instant::now();
    let prompt = build(
        &req.topic,
        req.industry.as_deref(),
        req.target_length,
        &sources,
        app.cfg.context_token_budget,
    );
    app.extra_delay(Stage::Prompt).await;
    tm.record(Stage::Prompt, start, &app.metrics);
    let used: Vec<SearchHit> = fetched.into_iter().map(|(h, _)| h.clone()).collect();
    Ok((prompt, used))
}

/// The whole non-streamed pipeline.
pub async fn generate(
    app: &App,
    req: &ArticleRequest,
    tm: &mut Timings,
) -> Result<Article, StageError> {
    if let Some(cached) = probe(app, req, tm).await {
        app.metrics.cache(true);
        return Ok(Article {
            cached,
            usage: Usage::default(),
            cost_usd: 0.0,
            cache_hit: true,
            coalesced: false,
            context_tokens: 0,
        });
    }
    let c = &app.cfg.cache;
    if !c.coalesce || c.kind == crate::config::CacheKind::Off {
        app.metrics.cache(false);
        return make(app, req, tm).await.map(|m| made_here(m, false));
    }
    let (m, led) = app
        .flights
        .run(&req.cache_key(&app.cfg), || make(app, req, tm))
        .await?;
    if led {
        app.metrics.cache(false);
        Ok(made_here(m, false))
    } else {
        app.metrics.cache(true);
        app.metrics.coalesced();
        Ok(made_here(m, true))
    }
}

/// The article as this request answers it: its maker pays for it, a
/// request that waited for it pays nothing.
fn made_here(m: Made, waited: bool) -> Article {
    Article {
        cached: m.cached,
        usage: if waited { Usage::default() } else { m.usage },
        cost_usd: if waited { 0.0 } else { m.cost_usd },
        cache_hit: waited,
        coalesced: waited,
        context_tokens: if waited { 0 } else { m.context_tokens },
    }
}

/// Search to LLM, then the cache: one generation.
async fn make(app: &App, req: &ArticleRequest, tm: &mut Timings) -> Result<Made, StageError> {
    let (prompt, sources) = gather(app, req, tm).await?;
    let start = Instant::now();
    let answer = app
        .providers
        .complete(&prompt.messages, req.max_tokens(&app.cfg))
        .await;
    tm.call(
        Stage::Llm,
        &app.cfg.llm_url,
        start,
        answer.as_ref().ok().map(|_| 200),
    );
    let (text, usage) = answer?;
    tm.set_llm(LlmFacts {
        model: app.cfg.model.clone(),
        input_tokens: usage.prompt_tokens,
        output_tokens: usage.completion_tokens,
    });
    app.extra_delay(Stage::Llm).await;
    tm.record(Stage::Llm, start, &app.metrics);
    let cached = CachedArticle {
        article: text,
        sources,
    };
    store(app, req, &cached).await;
    let cost_usd = cost(app, &usage, 1);
    app.metrics.spent(usage, cost_usd);
    Ok(Made {
        cached,
        usage,
        cost_usd,
        context_tokens: prompt.context_tokens,
    })
}

pub async fn store(app: &App, req: &ArticleRequest, article: &CachedArticle) {
    if let Ok(s) = serde_json::to_string(article) {
        app.cache.put(&req.cache_key(&app.cfg), s).await;
    }
}
