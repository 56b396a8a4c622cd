//! Appends a header `x-fnv1a`: the 32-bit FNV-1a hash of the value, as 8
//! lowercase hex digits. Key and value are kept.

use penstock::{Enricher, Error, Output, Record};

struct AddHeader;

fn fnv1a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in data {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn hex8(v: u32) -> [u8; 8] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = [0u8; 8];
    for (i, d) in s.iter_mut().enumerate() {
        *d = DIGITS[((v >> (28 - 4 * i)) & 0xf) as usize];
    }
    s
}

impl Enricher for AddHeader {
    fn init(_config: &[u8]) -> Result<Self, Error> {
        Ok(AddHeader)
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Output) -> Result<(), Error> {
        let hash = hex8(fnv1a(record.value.unwrap_or(b"")));
        out.record()
            .headers(record.headers())
            .header("x-fnv1a", hash)
            .emit();
        Ok(())
    }
}

penstock::export_enricher!(AddHeader);
