//! Fuzzes both line parsers and the line codec; see `src/lib.rs` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ququ_protocol_fuzz::parse_line(data);
});
