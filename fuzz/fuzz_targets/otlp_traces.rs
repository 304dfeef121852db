#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| genbench::fuzzing::otlp_traces(data));
