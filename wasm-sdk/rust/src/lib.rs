//! Write Penstock enrichers in Rust.
//!
//! An enricher is a type implementing [`Enricher`], exported with
//! [`export_enricher!`] from a crate built as a `cdylib` for `wasm32-wasip1`
//! (`wasm32-wasi` on older toolchains). The SDK implements the Penstock
//! enricher ABI version 1 (`wasm-sdk/ABI.md`): it decodes each input batch,
//! calls [`Enricher::enrich`] once per record and encodes what the handler
//! emits into a reusable output buffer.
//!
//! ```no_run
//! use penstock::{Enricher, Error, Output, Record};
//!
//! struct Upper;
//!
//! impl Enricher for Upper {
//!     fn init(_config: &[u8]) -> Result<Self, Error> {
//!         Ok(Upper)
//!     }
//!
//!     fn enrich(&mut self, record: &Record, out: &mut Output) -> Result<(), Error> {
//!         match record.value {
//!             Some(v) if v.is_empty() => {}        // drop empty values
//!             Some(_) => out.keep(),               // forward the rest unchanged
//!             None => return Err("no value".into()), // per-record error
//!         }
//!         Ok(())
//!     }
//! }
//!
//! penstock::export_enricher!(Upper);
//! ```

#![forbid(unsafe_op_in_unsafe_fn)]

use std::borrow::Cow;
use std::cell::UnsafeCell;
use std::fmt;

pub mod json;

/// The ABI version this SDK implements.
pub const ABI_VERSION: i32 = 1;

const FLAG_KEY: u8 = 1 << 0;
const FLAG_VALUE: u8 = 1 << 1;
const FLAG_LOG_APPEND_TIME: u8 = 1 << 2;
const FLAG_KEEP_KEY: u8 = 1 << 2;
const FLAG_KEEP_VALUE: u8 = 1 << 3;
const FLAG_KEEP_HEADERS: u8 = 1 << 4;

const KIND_RECORD: u8 = 0;
const KIND_ERROR: u8 = 1;

// ---------------------------------------------------------------------------
// Public API

/// An enricher: created once per instance from its configuration, then
/// called once per input record.
pub trait Enricher: Sized + 'static {
    /// Builds the enricher from the `config` of the pipeline file, as UTF-8
    /// JSON bytes (`{}` when none is given). An error fails the pipeline's
    /// start with its message.
    fn init(config: &[u8]) -> Result<Self, Error>;

    /// Handles one record. Emit its outputs through `out`: [`Output::keep`]
    /// forwards it unchanged, [`Output::record`] emits a changed record (call
    /// it several times to split), and emitting nothing drops it.
    ///
    /// Returning `Err` discards whatever was emitted for this record and
    /// reports a per-record error (or, for [`Error::batch`], fails the
    /// whole batch).
    fn enrich(&mut self, record: &Record<'_>, out: &mut Output) -> Result<(), Error>;
}

/// One input record. Byte fields borrow the input batch.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// Position of the record in its batch, from 0.
    pub index: u32,
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The timestamp is the broker's LOG_APPEND_TIME (else CREATE_TIME).
    pub log_append_time: bool,
    /// `None` when the key is absent (Kafka null), `Some(b"")` when empty.
    pub key: Option<&'a [u8]>,
    /// `None` when the value is absent (Kafka null), `Some(b"")` when empty.
    pub value: Option<&'a [u8]>,
    header_count: u32,
    header_bytes: &'a [u8],
}

impl<'a> Record<'a> {
    /// The record's headers, in order.
    pub fn headers(&self) -> Headers<'a> {
        Headers {
            rest: self.header_bytes,
            left: self.header_count,
        }
    }

    /// Number of headers.
    pub fn header_count(&self) -> usize {
        self.header_count as usize
    }

    /// The value of the first header named `name`.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers()
            .find(|h| h.name == name.as_bytes())
            .map(|h| h.value)
    }
}

/// A record header. Names are UTF-8 by convention; they are given as bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
}

/// Iterator over a record's headers.
#[derive(Clone, Debug)]
pub struct Headers<'a> {
    rest: &'a [u8],
    left: u32,
}

impl<'a> Iterator for Headers<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        if self.left == 0 {
            return None;
        }
        // The batch decoder has checked every length already.
        let mut r = Reader {
            buf: self.rest,
            pos: 0,
        };
        let name = r.bytes()?;
        let value = r.bytes()?;
        self.rest = &self.rest[r.pos..];
        self.left -= 1;
        Some(Header { name, value })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Headers<'_> {}

/// Why a record (or the whole batch) could not be processed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    message: Cow<'static, str>,
    batch: bool,
}

impl Error {
    /// A per-record error: the pipeline treats the record as a failed
    /// delivery (retry policy, then the on-failure destination).
    pub fn record(message: impl Into<Cow<'static, str>>) -> Error {
        Error {
            message: message.into(),
            batch: false,
        }
    }

    /// Fails the whole batch; the pipeline retries it per its retry policy.
    pub fn batch(message: impl Into<Cow<'static, str>>) -> Error {
        Error {
            message: message.into(),
            batch: true,
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn is_batch(&self) -> bool {
        self.batch
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<&'static str> for Error {
    fn from(m: &'static str) -> Error {
        Error::record(m)
    }
}

impl From<String> for Error {
    fn from(m: String) -> Error {
        Error::record(m)
    }
}

/// Where a handler writes the outputs of the current record. The buffer is
/// reused from batch to batch.
pub struct Output {
    buf: Vec<u8>,
    count: u32,
    index: u32,
    headers: Vec<u8>,
    header_count: u32,
}

impl Output {
    const fn new() -> Output {
        Output {
            buf: Vec::new(),
            count: 0,
            index: 0,
            headers: Vec::new(),
            header_count: 0,
        }
    }

    /// Forwards the input record unchanged.
    pub fn keep(&mut self) {
        self.begin(KIND_RECORD);
        self.buf
            .push(FLAG_KEEP_KEY | FLAG_KEEP_VALUE | FLAG_KEEP_HEADERS);
        self.put_u32(0);
        self.put_u32(0);
        self.put_u32(0);
    }

    /// Starts an output record that keeps the input's key, value and
    /// headers until told otherwise; finish it with [`RecordBuilder::emit`].
    pub fn record<'o, 'b>(&'o mut self) -> RecordBuilder<'o, 'b> {
        self.headers.clear();
        self.header_count = 0;
        RecordBuilder {
            out: self,
            key: Field::Keep,
            value: Field::Keep,
            explicit_headers: false,
        }
    }

    fn begin(&mut self, kind: u8) {
        self.count += 1;
        self.put_u32(self.index);
        self.buf.push(kind);
    }

    fn put_u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    fn put_bytes(&mut self, b: &[u8]) {
        self.put_u32(b.len() as u32);
        self.buf.extend_from_slice(b);
    }

    fn start_batch(&mut self) {
        self.buf.clear();
        self.buf.extend_from_slice(b"PSO1");
        self.put_u32(0); // status
        self.put_u32(0); // count, patched in finish_batch
        self.count = 0;
    }

    fn finish_batch(&mut self) {
        let count = self.count.to_le_bytes();
        self.buf[8..12].copy_from_slice(&count);
    }

    fn fail_batch(&mut self, msg: &str) {
        self.buf.clear();
        self.buf.extend_from_slice(b"PSO1");
        self.put_u32(1);
        self.put_bytes(msg.as_bytes());
    }

    fn record_error(&mut self, msg: &str) {
        self.begin(KIND_ERROR);
        self.put_bytes(msg.as_bytes());
    }
}

#[derive(Clone, Copy)]
enum Field<'b> {
    Keep,
    Absent,
    Set(&'b [u8]),
}

/// An output record under construction. Everything not set is kept from the
/// input record.
#[must_use = "an output record is written only by emit()"]
pub struct RecordBuilder<'o, 'b> {
    out: &'o mut Output,
    key: Field<'b>,
    value: Field<'b>,
    explicit_headers: bool,
}

impl<'o, 'b> RecordBuilder<'o, 'b> {
    /// Sets the key: `None` makes it absent (Kafka null).
    pub fn key(mut self, key: Option<&'b [u8]>) -> Self {
        self.key = key.map_or(Field::Absent, Field::Set);
        self
    }

    /// Sets the value: `None` makes it absent (Kafka null).
    pub fn value(mut self, value: Option<&'b [u8]>) -> Self {
        self.value = value.map_or(Field::Absent, Field::Set);
        self
    }

    /// Writes the headers explicitly and appends one. The first call (or
    /// [`headers`](Self::headers), or [`clear_headers`](Self::clear_headers))
    /// replaces the input's headers: copy them with `headers(record.headers())`
    /// to keep them.
    pub fn header(mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Self {
        self.explicit_headers = true;
        let o = &mut *self.out;
        let (n, v) = (name.as_ref(), value.as_ref());
        o.headers.extend_from_slice(&(n.len() as u32).to_le_bytes());
        o.headers.extend_from_slice(n);
        o.headers.extend_from_slice(&(v.len() as u32).to_le_bytes());
        o.headers.extend_from_slice(v);
        o.header_count += 1;
        self
    }

    /// Appends several headers (see [`header`](Self::header)).
    pub fn headers<'h>(mut self, headers: impl IntoIterator<Item = Header<'h>>) -> Self {
        self.explicit_headers = true;
        for h in headers {
            self = self.header(h.name, h.value);
        }
        self
    }

    /// Writes the record with no headers (unless more are appended).
    pub fn clear_headers(mut self) -> Self {
        self.explicit_headers = true;
        self.out.headers.clear();
        self.out.header_count = 0;
        self
    }

    /// Writes the output record.
    pub fn emit(self) {
        let mut flags = 0u8;
        match self.key {
            Field::Keep => flags |= FLAG_KEEP_KEY,
            Field::Set(_) => flags |= FLAG_KEY,
            Field::Absent => {}
        }
        match self.value {
            Field::Keep => flags |= FLAG_KEEP_VALUE,
            Field::Set(_) => flags |= FLAG_VALUE,
            Field::Absent => {}
        }
        if !self.explicit_headers {
            flags |= FLAG_KEEP_HEADERS;
        }
        let o = self.out;
        o.begin(KIND_RECORD);
        o.buf.push(flags);
        for f in [self.key, self.value] {
            match f {
                Field::Set(b) => o.put_bytes(b),
                _ => o.put_u32(0),
            }
        }
        if self.explicit_headers {
            o.put_u32(o.header_count);
            o.buf.extend_from_slice(&o.headers);
        } else {
            o.put_u32(0);
        }
    }
}

/// Log levels of [`log`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(i32)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

/// Writes a line to the pipeline's log.
pub fn log(level: Level, message: &str) {
    host_log(level as i32, message.as_bytes());
}

#[cfg(target_arch = "wasm32")]
fn host_log(level: i32, msg: &[u8]) {
    #[link(wasm_import_module = "penstock_v1")]
    extern "C" {
        #[link_name = "log"]
        fn penstock_log(level: i32, ptr: *const u8, len: usize);
    }
    // SAFETY: the host only reads `len` bytes at `ptr`.
    unsafe { penstock_log(level, msg.as_ptr(), msg.len()) }
}

#[cfg(not(target_arch = "wasm32"))]
fn host_log(level: i32, msg: &[u8]) {
    eprintln!("[{}] {}", level, String::from_utf8_lossy(msg));
}

// ---------------------------------------------------------------------------
// Input decoding

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Option<i64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(i64::from_le_bytes(a))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn record(&mut self, index: u32, topic: &'a str, partition: i32) -> Option<Record<'a>> {
        let offset = self.i64()?;
        let timestamp = self.i64()?;
        let flags = self.u8()?;
        let key = self.bytes()?;
        let value = self.bytes()?;
        let header_count = self.u32()?;
        let start = self.pos;
        for _ in 0..header_count {
            self.bytes()?;
            self.bytes()?;
        }
        Some(Record {
            index,
            topic,
            partition,
            offset,
            timestamp,
            log_append_time: flags & FLAG_LOG_APPEND_TIME != 0,
            key: if flags & FLAG_KEY != 0 {
                Some(key)
            } else {
                None
            },
            value: if flags & FLAG_VALUE != 0 {
                Some(value)
            } else {
                None
            },
            header_count,
            header_bytes: &self.buf[start..self.pos],
        })
    }
}

// ---------------------------------------------------------------------------
// ABI glue, used by export_enricher!

#[doc(hidden)]
pub mod __rt {
    use super::*;

    /// Module-global state. A WebAssembly instance is single-threaded and
    /// the host never re-enters the guest, so unsynchronised access is sound.
    pub struct Global<T>(UnsafeCell<T>);

    unsafe impl<T> Sync for Global<T> {}

    impl<T> Global<T> {
        pub const fn new(v: T) -> Self {
            Global(UnsafeCell::new(v))
        }

        #[allow(clippy::mut_from_ref)]
        pub unsafe fn get(&self) -> &mut T {
            // SAFETY: see the type's comment; callers hold no other reference.
            unsafe { &mut *self.0.get() }
        }
    }

    static INPUT: Global<Vec<u8>> = Global::new(Vec::new());
    static OUTPUT: Global<Output> = Global::new(Output::new());
    static MESSAGE: Global<Vec<u8>> = Global::new(Vec::new());

    fn pack(ptr: *const u8, len: usize) -> i64 {
        (((ptr as usize as u64) << 32) | (len as u32 as u64)) as i64
    }

    pub fn alloc(size: i32) -> i32 {
        if size < 0 {
            return 0;
        }
        // SAFETY: exported functions are not re-entered.
        let buf = unsafe { INPUT.get() };
        let want = (size as usize).max(64);
        if buf.capacity() < want {
            *buf = Vec::new();
            if buf.try_reserve_exact(want).is_err() {
                return 0;
            }
        }
        buf.as_mut_ptr() as usize as i32
    }

    unsafe fn input<'a>(ptr: i32, len: i32) -> &'a [u8] {
        if len <= 0 || ptr == 0 {
            return &[];
        }
        // SAFETY: the host wrote `len` bytes at `ptr`, a buffer from alloc.
        unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) }
    }

    pub fn init<E: Enricher>(slot: &Global<Option<E>>, ptr: i32, len: i32) -> i64 {
        // SAFETY: exported functions are not re-entered.
        let (config, slot) = unsafe { (input(ptr, len), slot.get()) };
        match E::init(config) {
            Ok(e) => {
                *slot = Some(e);
                0
            }
            Err(err) => {
                let msg = unsafe { MESSAGE.get() };
                msg.clear();
                msg.extend_from_slice(err.message().as_bytes());
                if msg.is_empty() {
                    msg.extend_from_slice(b"init failed");
                }
                pack(msg.as_ptr(), msg.len())
            }
        }
    }

    pub fn enrich<E: Enricher>(slot: &Global<Option<E>>, ptr: i32, len: i32) -> i64 {
        // SAFETY: exported functions are not re-entered.
        let (input, slot, out) = unsafe { (input(ptr, len), slot.get(), OUTPUT.get()) };
        out.start_batch();
        match slot {
            Some(e) => run(e, input, out),
            None => out.fail_batch("enricher is not initialised"),
        }
        pack(out.buf.as_ptr(), out.buf.len())
    }

    pub(crate) fn run<E: Enricher>(e: &mut E, input: &[u8], out: &mut Output) {
        let mut r = Reader { buf: input, pos: 0 };
        let head = (|| {
            if r.take(4)? != b"PSB1" {
                return None;
            }
            let count = r.u32()?;
            let topic = std::str::from_utf8(r.bytes()?).ok()?;
            let partition = r.u32()? as i32;
            Some((count, topic, partition))
        })();
        let (count, topic, partition) = match head {
            Some(h) => h,
            None => return out.fail_batch("malformed input batch"),
        };
        for index in 0..count {
            let record = match r.record(index, topic, partition) {
                Some(rec) => rec,
                None => return out.fail_batch("malformed input batch"),
            };
            let (mark, mark_count) = (out.buf.len(), out.count);
            out.index = index;
            if let Err(err) = e.enrich(&record, out) {
                if err.is_batch() {
                    return out.fail_batch(err.message());
                }
                out.buf.truncate(mark);
                out.count = mark_count;
                out.record_error(err.message());
            }
        }
        out.finish_batch();
    }
}

/// Exports the ABI functions (`penstock_abi_version`, `penstock_alloc`,
/// `penstock_init`, `penstock_enrich`) for an [`Enricher`] type. Use it once,
/// in a crate built as a `cdylib`.
#[macro_export]
macro_rules! export_enricher {
    ($enricher:ty) => {
        static __PENSTOCK_ENRICHER: $crate::__rt::Global<::core::option::Option<$enricher>> =
            $crate::__rt::Global::new(::core::option::Option::None);

        #[no_mangle]
        pub extern "C" fn penstock_abi_version() -> i32 {
            $crate::ABI_VERSION
        }

        #[no_mangle]
        pub extern "C" fn penstock_alloc(size: i32) -> i32 {
            $crate::__rt::alloc(size)
        }

        #[no_mangle]
        pub extern "C" fn penstock_init(ptr: i32, len: i32) -> i64 {
            $crate::__rt::init::<$enricher>(&__PENSTOCK_ENRICHER, ptr, len)
        }

        #[no_mangle]
        pub extern "C" fn penstock_enrich(ptr: i32, len: i32) -> i64 {
            $crate::__rt::enrich::<$enricher>(&__PENSTOCK_ENRICHER, ptr, len)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `e` over `input` and returns the output batch.
    fn run_batch<E: Enricher>(e: &mut E, input: &[u8]) -> Vec<u8> {
        let mut out = Output::new();
        out.start_batch();
        __rt::run(e, input, &mut out);
        out.buf
    }

    // The byte-level example of ABI.md section 7.
    const EXAMPLE_INPUT: &[u8] = b"PSB1\x01\0\0\0\x01\0\0\0t\x02\0\0\0\
        \x05\0\0\0\0\0\0\0\xe8\x03\0\0\0\0\0\0\x03\
        \x01\0\0\0k\x02\0\0\0{}\x01\0\0\0\x01\0\0\0h\x01\0\0\0v";

    struct Replace;

    impl Enricher for Replace {
        fn init(_: &[u8]) -> Result<Self, Error> {
            Ok(Replace)
        }

        fn enrich(&mut self, r: &Record<'_>, out: &mut Output) -> Result<(), Error> {
            assert_eq!((r.index, r.topic, r.partition), (0, "t", 2));
            assert_eq!((r.offset, r.timestamp, r.log_append_time), (5, 1000, false));
            assert_eq!((r.key, r.value), (Some(&b"k"[..]), Some(&b"{}"[..])));
            let h: Vec<_> = r.headers().collect();
            assert_eq!(
                h,
                [Header {
                    name: b"h",
                    value: b"v"
                }]
            );
            assert_eq!(r.header("h"), Some(&b"v"[..]));
            out.record().value(Some(br#"{"a":1}"#)).emit();
            Ok(())
        }
    }

    #[test]
    fn abi_example() {
        let out = run_batch(&mut Replace, EXAMPLE_INPUT);
        let want: &[u8] = b"PSO1\0\0\0\0\x01\0\0\0\0\0\0\0\0\x16\0\0\0\0\
            \x07\0\0\0{\"a\":1}\0\0\0\0";
        assert_eq!(out, want);
    }

    struct Errors;

    impl Enricher for Errors {
        fn init(_: &[u8]) -> Result<Self, Error> {
            Ok(Errors)
        }

        fn enrich(&mut self, r: &Record<'_>, out: &mut Output) -> Result<(), Error> {
            out.keep();
            out.record().key(None).value(None).clear_headers().emit();
            match r.value {
                Some(b"{}") => Err("boom".into()),
                _ => Ok(()),
            }
        }
    }

    #[test]
    fn error_discards_outputs() {
        let out = run_batch(&mut Errors, EXAMPLE_INPUT);
        let want: &[u8] = b"PSO1\0\0\0\0\x01\0\0\0\0\0\0\0\x01\x04\0\0\0boom";
        assert_eq!(out, want);
    }

    struct FailBatch;

    impl Enricher for FailBatch {
        fn init(_: &[u8]) -> Result<Self, Error> {
            Ok(FailBatch)
        }

        fn enrich(&mut self, _: &Record<'_>, _: &mut Output) -> Result<(), Error> {
            Err(Error::batch("down"))
        }
    }

    #[test]
    fn batch_failure_and_malformed_input() {
        let out = run_batch(&mut FailBatch, EXAMPLE_INPUT);
        assert_eq!(out, b"PSO1\x01\0\0\0\x04\0\0\0down");
        let out = run_batch(&mut FailBatch, &EXAMPLE_INPUT[..EXAMPLE_INPUT.len() - 1]);
        assert_eq!(&out[..8], b"PSO1\x01\0\0\0");
    }
}
