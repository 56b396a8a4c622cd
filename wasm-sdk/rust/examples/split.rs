//! Splits a record whose value is a JSON array into one record per element.
//!
//! When the value, after leading whitespace, is a JSON array, each element
//! becomes a record whose value is the element's bytes exactly as in the
//! input, without the whitespace around it; key and headers are kept. An
//! empty array drops the record. Any other JSON value passes unchanged. A
//! value that is not JSON (or absent) is reported as a record error
//! "value is not JSON".

use penstock::json::{self, Kind};
use penstock::{Enricher, Error, Output, Record};

const NOT_JSON: &str = "value is not JSON";

struct Split;

impl Enricher for Split {
    fn init(_config: &[u8]) -> Result<Self, Error> {
        Ok(Split)
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Output) -> Result<(), Error> {
        let value = record.value.ok_or(NOT_JSON)?;
        let mut tokens = json::tokens(value);
        let is_array = match tokens.next() {
            Some(Ok(t)) => t.kind == Kind::BeginArray,
            _ => return Err(NOT_JSON.into()),
        };
        let mut element_start = 0;
        while let Some(token) = tokens.next() {
            // An error discards the elements emitted so far.
            let token = token.map_err(|_| NOT_JSON)?;
            if !is_array {
                continue; // validate the rest
            }
            // Elements of the top-level array live at depth 1: a scalar
            // there is a whole element; a container starts by entering
            // depth 2 and ends by coming back to depth 1.
            let element = match (token.kind, tokens.depth()) {
                (Kind::BeginArray | Kind::BeginObject, 2) => {
                    element_start = token.start;
                    None
                }
                (Kind::EndArray | Kind::EndObject, 1) => Some(element_start..token.end),
                (Kind::String | Kind::Number | Kind::True | Kind::False | Kind::Null, 1) => {
                    Some(token.start..token.end)
                }
                _ => None,
            };
            if let Some(span) = element {
                out.record().value(Some(&value[span])).emit();
            }
        }
        if !is_array {
            out.keep();
        }
        Ok(())
    }
}

penstock::export_enricher!(Split);
