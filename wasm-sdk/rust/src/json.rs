//! A small JSON (RFC 8259) tokenizer that reports byte spans, for enrichers
//! that inspect or patch JSON values without re-serialising them.
//!
//! ```
//! use penstock::json::{self, Kind};
//!
//! let value = br#"{"a": ["x", 1]}"#;
//! let mut strings = Vec::new();
//! for token in json::tokens(value) {
//!     let token = token.expect("valid JSON");
//!     if token.kind == Kind::String {
//!         strings.push(&value[token.start..token.end]); // quotes included
//!     }
//! }
//! assert_eq!(strings, [&br#""x""#[..]]);
//! assert!(!json::is_valid(b"[1,]"));
//! ```
//!
//! The tokens of a valid text are produced in order; the first syntax error
//! (including trailing bytes after the value) is produced once, after which
//! the iterator ends. Choices shared by the Penstock SDKs of every language:
//! bytes of 0x80 and above inside strings are not checked as UTF-8, and more
//! than [`MAX_DEPTH`] nested arrays and objects are a syntax error. Scanning
//! does not allocate.

use std::fmt;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    BeginObject,
    EndObject,
    BeginArray,
    EndArray,
    /// An object member's name (a string followed by `:`).
    Key,
    String,
    Number,
    True,
    False,
    Null,
}

/// A token and its bytes `src[start..end]` (strings include their quotes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// The input is not JSON; `offset` is where that became clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}", self.offset)
    }
}

impl std::error::Error for SyntaxError {}

/// The deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 1000;

/// Tokenizes `src`.
pub fn tokens(src: &[u8]) -> Tokens<'_> {
    Tokens {
        src,
        pos: 0,
        depth: 0,
        objects: [0; MAX_DEPTH / 8],
        state: State::Value,
    }
}

/// Whether `src` is one JSON value with optional surrounding whitespace.
pub fn is_valid(src: &[u8]) -> bool {
    tokens(src).all(|t| t.is_ok())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Value,
    ValueOrEnd,
    Key,
    KeyOrEnd,
    Colon,
    AfterValue,
    Done,
}

/// Iterator over the tokens of one text; see [`tokens`].
pub struct Tokens<'a> {
    src: &'a [u8],
    pos: usize,
    depth: usize,
    /// One bit per open container: set for an object, clear for an array.
    objects: [u8; MAX_DEPTH / 8],
    state: State,
}

impl<'a> Tokens<'a> {
    /// Number of arrays and objects open after the last token.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Whether the innermost open container is an object.
    fn in_object(&self) -> bool {
        let d = self.depth - 1;
        self.objects[d / 8] & (1 << (d % 8)) != 0
    }

    fn fail(&mut self) -> Option<Result<Token, SyntaxError>> {
        self.state = State::Done;
        Some(Err(SyntaxError { offset: self.pos }))
    }

    fn token(&mut self, kind: Kind, start: usize) -> Option<Result<Token, SyntaxError>> {
        Some(Ok(Token {
            kind,
            start,
            end: self.pos,
        }))
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }

    fn close(&mut self, kind: Kind) -> Option<Result<Token, SyntaxError>> {
        let start = self.pos;
        self.pos += 1;
        self.depth -= 1;
        self.state = State::AfterValue;
        self.token(kind, start)
    }

    fn value(&mut self) -> Option<Result<Token, SyntaxError>> {
        let start = self.pos;
        let c = match self.src.get(self.pos) {
            Some(&c) => c,
            None => return self.fail(),
        };
        let kind = match c {
            b'{' | b'[' => {
                if self.depth == MAX_DEPTH {
                    return self.fail();
                }
                let (byte, bit) = (self.depth / 8, 1 << (self.depth % 8));
                if c == b'{' {
                    self.objects[byte] |= bit;
                } else {
                    self.objects[byte] &= !bit;
                }
                self.depth += 1;
                self.pos += 1;
                if c == b'{' {
                    self.state = State::KeyOrEnd;
                    return self.token(Kind::BeginObject, start);
                }
                self.state = State::ValueOrEnd;
                return self.token(Kind::BeginArray, start);
            }
            b'"' => {
                if !self.string() {
                    return self.fail();
                }
                Kind::String
            }
            b'-' | b'0'..=b'9' => {
                if !self.number() {
                    return self.fail();
                }
                Kind::Number
            }
            b't' | b'f' | b'n' => {
                let (word, kind): (&[u8], Kind) = match c {
                    b't' => (b"true", Kind::True),
                    b'f' => (b"false", Kind::False),
                    _ => (b"null", Kind::Null),
                };
                if !self.src[self.pos..].starts_with(word) {
                    return self.fail();
                }
                self.pos += word.len();
                kind
            }
            _ => return self.fail(),
        };
        self.state = State::AfterValue;
        self.token(kind, start)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.src.get(self.pos) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> bool {
        if self.src[self.pos] == b'-' {
            self.pos += 1;
        }
        match self.src.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return false,
        }
        if self.src.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return false;
            }
        }
        if let Some(b'e' | b'E') = self.src.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.src.get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return false;
            }
        }
        true
    }

    fn string(&mut self) -> bool {
        let src = self.src;
        let mut i = self.pos + 1;
        loop {
            let c = match src.get(i) {
                Some(&c) => c,
                None => {
                    self.pos = i;
                    return false;
                }
            };
            match c {
                b'"' => break,
                b'\\' => match src.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => match src.get(i + 2..i + 6) {
                        Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => i += 6,
                        _ => {
                            self.pos = i;
                            return false;
                        }
                    },
                    _ => {
                        self.pos = i;
                        return false;
                    }
                },
                0x00..=0x1f => {
                    self.pos = i;
                    return false;
                }
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        true
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Result<Token, SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.state == State::Done {
                return None;
            }
            self.skip_ws();
            match self.state {
                State::Done => return None,
                State::Value => return self.value(),
                State::ValueOrEnd => {
                    if self.src.get(self.pos) == Some(&b']') {
                        return self.close(Kind::EndArray);
                    }
                    return self.value();
                }
                State::Key | State::KeyOrEnd => {
                    let start = self.pos;
                    match self.src.get(self.pos) {
                        Some(b'}') if self.state == State::KeyOrEnd => {
                            return self.close(Kind::EndObject)
                        }
                        Some(b'"') => {
                            if !self.string() {
                                return self.fail();
                            }
                            self.state = State::Colon;
                            return self.token(Kind::Key, start);
                        }
                        _ => return self.fail(),
                    }
                }
                State::Colon => {
                    if self.src.get(self.pos) != Some(&b':') {
                        return self.fail();
                    }
                    self.pos += 1;
                    self.state = State::Value;
                }
                State::AfterValue => {
                    let c = self.src.get(self.pos).copied();
                    if self.depth == 0 {
                        if c.is_some() {
                            return self.fail();
                        }
                        self.state = State::Done;
                        return None;
                    }
                    match (self.in_object(), c) {
                        (false, Some(b',')) => {
                            self.pos += 1;
                            self.state = State::Value;
                        }
                        (false, Some(b']')) => return self.close(Kind::EndArray),
                        (true, Some(b',')) => {
                            self.pos += 1;
                            self.state = State::Key;
                        }
                        (true, Some(b'}')) => return self.close(Kind::EndObject),
                        _ => return self.fail(),
                    }
                }
            }
        }
    }
}

/// Decodes the JSON string token `raw` (quotes included, as produced by
/// [`tokens`]) into `out`, replacing `out`'s contents. Lone surrogates in
/// `\u` escapes decode as U+FFFD.
pub fn unescape_into(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let s = if raw.len() >= 2 {
        &raw[1..raw.len() - 1]
    } else {
        raw
    };
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' || i + 1 >= s.len() {
            out.push(c);
            i += 1;
            continue;
        }
        i += 2;
        let simple = match s[i - 1] {
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => 0,
            other => other,
        };
        if s[i - 1] != b'u' {
            out.push(simple);
            continue;
        }
        let mut cp = hex4(s, i);
        i += 4;
        if (0xd800..0xdc00).contains(&cp) && s.get(i) == Some(&b'\\') && s.get(i + 1) == Some(&b'u')
        {
            let lo = hex4(s, i + 2);
            if (0xdc00..0xe000).contains(&lo) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
        }
        let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
        let mut b = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
    }
}

fn hex4(s: &[u8], i: usize) -> u32 {
    let mut v = 0;
    for &c in s.get(i..i + 4).unwrap_or(&[]) {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => 0,
        };
        v = v * 16 + d as u32;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Result<Vec<(Kind, &str)>, SyntaxError> {
        let toks: Result<Vec<Token>, _> = tokens(src.as_bytes()).collect();
        Ok(toks?
            .into_iter()
            .map(|t| (t.kind, &src[t.start..t.end]))
            .collect())
    }

    #[test]
    fn token_spans() {
        use Kind::*;
        assert_eq!(
            kinds(r#" {"a" : [1, -2.5e3, "x\"y"], "b":{}, "c":true,"d":null} "#).unwrap(),
            [
                (BeginObject, "{"),
                (Key, r#""a""#),
                (BeginArray, "["),
                (Number, "1"),
                (Number, "-2.5e3"),
                (String, r#""x\"y""#),
                (EndArray, "]"),
                (Key, r#""b""#),
                (BeginObject, "{"),
                (EndObject, "}"),
                (Key, r#""c""#),
                (True, "true"),
                (Key, r#""d""#),
                (Null, "null"),
                (EndObject, "}"),
            ]
        );
    }

    #[test]
    fn validity() {
        let valid: [&[u8]; 13] = [
            b"0",
            b"-0",
            b"1.5E+2",
            b"\"\"",
            b"[]",
            b"{}",
            b" [ [ ] , { } ] ",
            b"\"\\u00e9\\n\"",
            "\"\u{e9}\u{1f600}\"".as_bytes(),
            b"false",
            // Bytes of 0x80 and above are not checked as UTF-8.
            b"\"\xff\"",
            b"\"\xed\xa0\x80\"",
            b"\t\r\n null \n",
        ];
        for v in valid {
            assert!(
                is_valid(v),
                "{:?} should be valid",
                String::from_utf8_lossy(v)
            );
        }
        let invalid: [&[u8]; 23] = [
            b"",
            b" ",
            b"01",
            b"1.",
            b".5",
            b"-",
            b"1e",
            b"+1",
            b"[1,]",
            b"{\"a\":1,}",
            b"{\"a\"}",
            b"{1:2}",
            b"[",
            b"]",
            b"{}{}",
            b"nul",
            b"truex",
            b"\"\t\"",
            b"\"\\x\"",
            b"\"\\u12G4\"",
            b"\xef\xbb\xbf1",
            b"[1]\0",
            b"[\"a\":1]",
        ];
        for v in invalid {
            assert!(
                !is_valid(v),
                "{:?} should be invalid",
                String::from_utf8_lossy(v)
            );
        }
    }

    #[test]
    fn depth_limit() {
        let nest = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(is_valid(nest(MAX_DEPTH).as_bytes()));
        assert!(!is_valid(nest(MAX_DEPTH + 1).as_bytes()));
        let objects = r#"{"a":"#.repeat(MAX_DEPTH) + "1" + &"}".repeat(MAX_DEPTH);
        assert!(is_valid(objects.as_bytes()));
    }

    #[test]
    fn unescape() {
        let mut out = Vec::new();
        unescape_into(br#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x""#, &mut out);
        assert_eq!(
            out,
            "a\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1f600}\u{fffd}x".as_bytes()
        );
    }
}
