//! The Redis cache backend: `GET` and `SET key value EX ttl` over one
//! multiplexed, auto-reconnecting connection.

use crate::PipelineError;

pub struct RedisCache {
    conn: redis::aio::ConnectionManager,
    ttl_s: u64,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("ttl_s", &self.ttl_s)
            .finish()
    }
}

impl RedisCache {
    /// Connects and pings, so a wrong URL fails at start-up, not per request.
    pub async fn connect(url: &str, ttl_s: u64) -> Result<Self, PipelineError> {
        let err = |e: redis::RedisError| PipelineError::Redis {
            url: url.to_string(),
            message: e.to_string(),
        };
        let client = redis::Client::open(url).map_err(err)?;
        let connect = redis::aio::ConnectionManager::new(client);
        let mut conn = tokio::time::timeout(std::time::Duration::from_secs(5), connect)
            .await
            .map_err(|_| PipelineError::Redis {
                url: url.to_string(),
                message: "timed out after 5 s".into(),
            })?
            .map_err(err)?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(err)?;
        Ok(RedisCache {
            conn,
            ttl_s: ttl_s.max(1),
        })
    }

    pub async fn get(&self, key: &str) -> Option<String> {
        let mut c = self.conn.clone();
        match redis::cmd("GET")
            .arg(key)
            .query_async::<Option<String>>(&mut c)
            .await
        {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!("redis GET failed, treating as a miss: {e}");
                None
            }
        }
    }

    pub async fn put(&self, key: &str, value: String) {
        let mut c = self.conn.clone();
        let r = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("EX")
            .arg(self.ttl_s)
            .query_async::<()>(&mut c)
            .await;
        if let Err(e) = r {
            tracing::warn!("redis SET failed, article not cached: {e}");
        }
    }
}
