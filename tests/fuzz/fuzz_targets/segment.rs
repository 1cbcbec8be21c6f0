#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    syndup_fuzz::segment(data);
});
