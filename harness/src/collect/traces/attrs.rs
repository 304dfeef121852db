//! Reading a span's attributes: strings and whole numbers, however the
//! exporter typed them.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

/// A string attribute (or a number's text).
pub fn attr_str(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key)? {
        Value::StringValue(s) => Some(s.clone()),
        Value::IntValue(i) => Some(i.to_string()),
        Value::DoubleValue(d) => Some(d.to_string()),
        Value::BoolValue(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A whole-number attribute (a number, or a string of one).
pub fn attr_u64(attrs: &[KeyValue], key: &str) -> Option<u64> {
    match attr(attrs, key)? {
        Value::IntValue(i) => u64::try_from(*i).ok(),
        Value::DoubleValue(d) if *d >= 0.0 && d.is_finite() => Some(*d as u64),
        Value::StringValue(s) => s.trim().parse().ok(),
        _ => None,
    }
}
