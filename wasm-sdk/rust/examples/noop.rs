//! Keeps every record unchanged.

use penstock::{Enricher, Error, Output, Record};

struct Noop;

impl Enricher for Noop {
    fn init(_config: &[u8]) -> Result<Self, Error> {
        Ok(Noop)
    }

    fn enrich(&mut self, _record: &Record<'_>, out: &mut Output) -> Result<(), Error> {
        out.keep();
        Ok(())
    }
}

penstock::export_enricher!(Noop);
