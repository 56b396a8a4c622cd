//! Replaces sensitive strings in JSON values with `"***"`.
//!
//! Config: `{"fields": ["customer.email", "card"]}`, dotted paths of object
//! member names from the top-level object. Where a path leads to a JSON
//! string, that string token (quotes included) becomes `"***"`; every other
//! byte of the value stays as it was. Paths that lead to anything but a
//! string, or nowhere, change nothing (the record is kept as it is). A value
//! that is not JSON (or absent) is reported as a record error "value is not
//! JSON". Key and headers are kept.
//!
//! Member names are compared after decoding their escapes; every member
//! with a matching name is followed, duplicates included; arrays are not
//! entered.

use penstock::json::{self, Kind};
use penstock::{Enricher, Error, Output, Record};

const NOT_JSON: &str = "value is not JSON";
const CONFIG_SHAPE: &str = r#"mask: config must be {"fields": ["path", ...]}"#;
const CONFIG_NO_FIELDS: &str =
    r#"mask: config needs "fields", a list of dotted paths such as "customer.email""#;

/// One open array or object of the value being scanned.
#[derive(Clone, Copy)]
struct Level {
    object: bool,
    /// Span of the current member name (quotes included), for objects.
    key: (usize, usize),
}

struct Mask {
    /// The paths, split at dots.
    fields: Vec<Vec<Vec<u8>>>,
    levels: Vec<Level>,
    masked: Vec<u8>,
    scratch: Vec<u8>,
}

fn config_error(why: &str) -> Error {
    Error::record(format!("{}: {}", CONFIG_SHAPE, why))
}

fn parse_config(config: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, Error> {
    let mut tokens = json::tokens(config);
    let mut next = || match tokens.next() {
        Some(Ok(token)) => Ok(Some((token, tokens.depth()))),
        Some(Err(_)) => Err(config_error("not valid JSON")),
        None => Ok(None),
    };
    match next()? {
        Some((t, _)) if t.kind == Kind::BeginObject => {}
        Some((t, _)) if t.kind == Kind::Null => return Err(CONFIG_NO_FIELDS.into()),
        _ => return Err(config_error("not an object")),
    }
    let bad_fields = || config_error(r#""fields" is not a list of strings"#);
    let mut fields = None;
    let mut name = Vec::new();
    while let Some((token, depth)) = next()? {
        if token.kind != Kind::Key || depth != 1 {
            continue;
        }
        json::unescape_into(&config[token.start..token.end], &mut name);
        if name != b"fields" {
            continue;
        }
        match next()? {
            Some((t, _)) if t.kind == Kind::BeginArray => {}
            Some((t, _)) if t.kind == Kind::Null => {
                fields = None;
                continue;
            }
            _ => return Err(bad_fields()),
        }
        let mut paths = Vec::new();
        loop {
            match next()? {
                Some((t, _)) if t.kind == Kind::String => {
                    json::unescape_into(&config[t.start..t.end], &mut name);
                }
                Some((t, _)) if t.kind == Kind::Null => name.clear(),
                Some((t, _)) if t.kind == Kind::EndArray => break,
                _ => return Err(bad_fields()),
            }
            paths.push(name.split(|&b| b == b'.').map(<[u8]>::to_vec).collect());
        }
        fields = Some(paths);
    }
    fields.ok_or_else(|| CONFIG_NO_FIELDS.into())
}

/// Whether a string value reached through the member names `levels` (all
/// objects) is on one of the paths.
fn on_path(fields: &[Vec<Vec<u8>>], levels: &[Level], value: &[u8], scratch: &mut Vec<u8>) -> bool {
    fields.iter().any(|path| {
        path.len() == levels.len()
            && path.iter().zip(levels).all(|(segment, level)| {
                let raw = &value[level.key.0..level.key.1];
                if raw.contains(&b'\\') {
                    json::unescape_into(raw, scratch);
                    scratch == segment
                } else {
                    &raw[1..raw.len() - 1] == segment.as_slice()
                }
            })
    })
}

impl Enricher for Mask {
    fn init(config: &[u8]) -> Result<Self, Error> {
        Ok(Mask {
            fields: parse_config(config)?,
            levels: Vec::new(),
            masked: Vec::new(),
            scratch: Vec::new(),
        })
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Output) -> Result<(), Error> {
        let value = record.value.ok_or(NOT_JSON)?;
        let Mask {
            fields,
            levels,
            masked,
            scratch,
        } = self;
        masked.clear();
        levels.clear();
        let mut copied = 0;
        let mut changed = false;
        // Levels below the first array cannot be on a path.
        let mut arrays = 0;
        for token in json::tokens(value) {
            let token = token.map_err(|_| NOT_JSON)?;
            match token.kind {
                Kind::BeginObject | Kind::BeginArray => {
                    let object = token.kind == Kind::BeginObject;
                    arrays += usize::from(!object);
                    levels.push(Level {
                        object,
                        key: (0, 0),
                    });
                }
                Kind::EndObject | Kind::EndArray => {
                    if let Some(level) = levels.pop() {
                        arrays -= usize::from(!level.object);
                    }
                }
                Kind::Key => {
                    if let Some(level) = levels.last_mut() {
                        level.key = (token.start, token.end);
                    }
                }
                Kind::String if arrays == 0 && on_path(fields, levels, value, scratch) => {
                    masked.extend_from_slice(&value[copied..token.start]);
                    masked.extend_from_slice(b"\"***\"");
                    copied = token.end;
                    changed = true;
                }
                _ => {}
            }
        }
        if !changed {
            out.keep();
            return Ok(());
        }
        masked.extend_from_slice(&value[copied..]);
        out.record().value(Some(masked)).emit();
        Ok(())
    }
}

penstock::export_enricher!(Mask);
