#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| genbench_mock::fuzzing::llm_bodies(data));
