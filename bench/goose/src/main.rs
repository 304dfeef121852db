//! GET / as fast as goose's users can, for bench/engine.sh. Prints one JSON
//! line: requests answered and the seconds goose ran.
use goose::prelude::*;

async fn get_root(user: &mut GooseUser) -> TransactionResult {
    let _ = user.get("/").await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    let metrics = GooseAttack::initialize()?
        .register_scenario(scenario!("Root").register_transaction(transaction!(get_root)))
        .execute()
        .await?;
    let (ok, failed) = metrics.requests.values().fold((0, 0), |(o, f), r| {
        (o + r.success_count, f + r.fail_count)
    });
    println!(
        "{{\"ok\": {ok}, \"failed\": {failed}, \"duration_s\": {}}}",
        metrics.duration
    );
    Ok(())
}
