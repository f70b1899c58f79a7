#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| navis_fuzz::fast_path(data));
