// Penstock enricher SDK for AssemblyScript (ABI version 1, see
// wasm-sdk/ABI.md).
//
// An enricher extends `Enricher`, is registered once at the top level of
// the entry file, and the entry file re-exports the ABI functions:
//
//   import { Enricher, Output, Record, register } from "../assembly/penstock";
//   export { penstock_abi_version, penstock_alloc, penstock_init, penstock_enrich }
//     from "../assembly/penstock";
//
//   class Noop extends Enricher {
//     enrich(record: Record, out: Output): void { out.keep(); }
//   }
//   register(new Noop());
//
// Per record, the handler forwards the record unchanged (`out.keep()`),
// emits changed records (`out.record()...emit()`, several times to split),
// emits nothing to drop it, or reports a per-record error (`out.error(msg)`).
//
// Build with the flags of build.sh. `--use abort=assembly/penstock/penstockAbort`
// (the path of this file from the project root, without extension, then the
// function) routes AssemblyScript's abort here, so that the module imports
// nothing but penstock_v1.log; the default incremental runtime frees what
// handlers allocate.

export const ABI_VERSION: i32 = 1;

// Where penstockAbort formats its message (no allocation while aborting).
const abortBuf = memory.data(512);

// @ts-ignore: decorator
@external("penstock_v1", "log")
declare function hostLog(level: i32, ptr: usize, len: usize): void;

const IN_KEY: u8 = 1;
const IN_VALUE: u8 = 2;
const IN_LOG_APPEND_TIME: u8 = 4;
const OUT_KEY: u8 = 1;
const OUT_VALUE: u8 = 2;
const OUT_KEEP_KEY: u8 = 4;
const OUT_KEEP_VALUE: u8 = 8;
const OUT_KEEP_HEADERS: u8 = 16;
const KIND_RECORD: u8 = 0;
const KIND_ERROR: u8 = 1;

// How an output record sets its key or value.
const KEEP: i32 = 0;
const SET: i32 = 1;
const ABSENT: i32 = 2;

// ---------------------------------------------------------------------------
// Logging

export namespace Level {
  export const DEBUG: i32 = 0;
  export const INFO: i32 = 1;
  export const WARN: i32 = 2;
  export const ERROR: i32 = 3;
}

/** Writes a message to the pipeline's log. */
export function log(level: i32, message: string): void {
  const bytes = String.UTF8.encode(message);
  hostLog(level, changetype<usize>(bytes), <usize>bytes.byteLength);
}

// ---------------------------------------------------------------------------
// Enricher

/** Base class of enrichers. */
export abstract class Enricher {
  /**
   * Receives the enricher's config (UTF-8 JSON, `{}` when none is given)
   * once per instance. Returns null on success, or an error message that
   * fails the pipeline's start. `config` is a view of the input buffer,
   * valid only during the call: copy it (`config.slice()`) to keep it.
   */
  init(config: Uint8Array): string | null {
    return null;
  }

  /** Handles one record, emitting its outputs through `out`. */
  abstract enrich(record: Record, out: Output): void;
}

let enricher: Enricher | null = null;

/** Registers the module's enricher. Call it once, at the top level. */
export function register(e: Enricher): void {
  enricher = e;
}

// ---------------------------------------------------------------------------
// Input

/**
 * One input record. The object is reused for every record; its byte views
 * and pointers point into the input batch and are valid only during
 * `enrich`: copy what must be kept.
 */
export class Record {
  /** Position in the batch, from 0. */
  index: u32 = 0;
  topic: string = "";
  partition: i32 = 0;
  offset: i64 = 0;
  /** Milliseconds since the Unix epoch. */
  timestamp: i64 = 0;
  /** The timestamp is LOG_APPEND_TIME (else CREATE_TIME). */
  logAppendTime: bool = false;
  /** False when the key is absent (Kafka null); keyLen 0 is empty. */
  hasKey: bool = false;
  keyPtr: usize = 0;
  keyLen: i32 = 0;
  /** False when the value is absent (Kafka null); valueLen 0 is empty. */
  hasValue: bool = false;
  valuePtr: usize = 0;
  valueLen: i32 = 0;
  headerCount: i32 = 0;
  headersPtr: usize = 0;
  headersLen: i32 = 0;
  private iter: HeaderIterator = new HeaderIterator();

  /** The key, or null when absent. */
  get key(): Uint8Array | null {
    return this.hasKey ? view(this.keyPtr, this.keyLen) : null;
  }

  /** The value, or null when absent. */
  get value(): Uint8Array | null {
    return this.hasValue ? view(this.valuePtr, this.valueLen) : null;
  }

  /** Iterates over the headers: `let h = record.headers(); while (h.next()) ...`. */
  headers(): HeaderIterator {
    this.iter.reset(this.headersPtr, this.headerCount);
    return this.iter;
  }

  /** The value of the first header named `name`, or null. */
  header(name: string): Uint8Array | null {
    const h = this.headers();
    while (h.next()) {
      if (h.name == name) return h.value;
    }
    return null;
  }
}

/** A cursor over a record's headers. */
export class HeaderIterator {
  namePtr: usize = 0;
  nameLen: i32 = 0;
  valuePtr: usize = 0;
  valueLen: i32 = 0;
  private next_: usize = 0;
  private left: i32 = 0;

  reset(ptr: usize, count: i32): void {
    this.next_ = ptr;
    this.left = count;
  }

  /** Moves to the next header; false when there are no more. */
  next(): bool {
    if (this.left <= 0) return false;
    // The batch decoder has checked every length already.
    let p = this.next_;
    this.nameLen = <i32>load<u32>(p);
    this.namePtr = p + 4;
    p += 4 + <usize>this.nameLen;
    this.valueLen = <i32>load<u32>(p);
    this.valuePtr = p + 4;
    this.next_ = p + 4 + <usize>this.valueLen;
    this.left--;
    return true;
  }

  get name(): string {
    return String.UTF8.decodeUnsafe(this.namePtr, <usize>this.nameLen);
  }

  get value(): Uint8Array {
    return view(this.valuePtr, this.valueLen);
  }
}

let inBuf = new ArrayBuffer(64);

function view(ptr: usize, len: i32): Uint8Array {
  return Uint8Array.wrap(inBuf, <i32>(ptr - changetype<usize>(inBuf)), len);
}

// ---------------------------------------------------------------------------
// Output

/** A growable byte buffer, reused from batch to batch. */
class Buffer {
  buf: ArrayBuffer = new ArrayBuffer(4096);
  len: i32 = 0;

  @inline get ptr(): usize {
    return changetype<usize>(this.buf);
  }

  reserve(n: i32): usize {
    const need = this.len + n;
    const cap = this.buf.byteLength;
    if (need > cap) {
      let c = cap << 1;
      while (c < need) c <<= 1;
      const b = new ArrayBuffer(c);
      memory.copy(changetype<usize>(b), changetype<usize>(this.buf), <usize>this.len);
      this.buf = b;
    }
    const at = changetype<usize>(this.buf) + <usize>this.len;
    this.len = need;
    return at;
  }

  u8(v: u8): void {
    store<u8>(this.reserve(1), v);
  }

  u32(v: u32): void {
    store<u32>(this.reserve(4), v);
  }

  raw(ptr: usize, n: i32): void {
    if (n > 0) memory.copy(this.reserve(n), ptr, <usize>n);
  }

  bytes(ptr: usize, n: i32): void {
    this.u32(<u32>n);
    this.raw(ptr, n);
  }

  /** Appends `s` as UTF-8, prefixed with its length. */
  str(s: string): void {
    const n = String.UTF8.byteLength(s);
    this.u32(<u32>n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.reserve(n));
  }
}

/** Where a handler writes the outputs of the current record. */
export class Output {
  private out: Buffer = new Buffer();
  private count: u32 = 0;
  private failed: bool = false;
  private rec: Record | null = null;
  private mark: i32 = 0;
  private markCount: u32 = 0;
  private done: bool = false;
  private builder: RecordBuilder = new RecordBuilder();

  /** Forwards the input record unchanged. */
  keep(): void {
    if (!this.writable()) return;
    this.begin(KIND_RECORD);
    const o = this.out;
    o.u8(OUT_KEEP_KEY | OUT_KEEP_VALUE | OUT_KEEP_HEADERS);
    o.u32(0);
    o.u32(0);
    o.u32(0);
  }

  /**
   * Starts an output record that keeps the input's key, value and headers
   * until told otherwise; finish it with `emit()`. The builder is reused.
   */
  record(): RecordBuilder {
    this.builder.reset(this);
    return this.builder;
  }

  /**
   * Reports a per-record error: outputs already emitted for this record are
   * discarded, and later ones are ignored.
   */
  error(message: string): void {
    if (!this.writable()) return;
    this.out.len = this.mark;
    this.count = this.markCount;
    this.begin(KIND_ERROR);
    this.out.str(message);
    this.done = true;
  }

  /** Fails the whole batch; the pipeline retries it per its retry policy. */
  failBatch(message: string): void {
    if (this.failed) return;
    const o = this.out;
    o.len = 0;
    o.u32(0x314f5350); // "PSO1"
    o.u32(1);
    o.str(message);
    this.failed = true;
  }

  /** The input record whose outputs are being written. */
  get input(): Record {
    return changetype<Record>(this.rec);
  }

  // --- used by the SDK

  writable(): bool {
    return this.rec != null && !this.done && !this.failed;
  }

  begin(kind: u8): void {
    this.count++;
    this.out.u32(this.input.index);
    this.out.u8(kind);
  }

  get buffer(): Buffer {
    return this.out;
  }

  startBatch(): void {
    const o = this.out;
    o.len = 0;
    o.u32(0x314f5350); // "PSO1"
    o.u32(0);
    o.u32(0);
    this.count = 0;
    this.failed = false;
  }

  startRecord(r: Record): void {
    this.rec = r;
    this.mark = this.out.len;
    this.markCount = this.count;
    this.done = false;
  }

  get batchFailed(): bool {
    return this.failed;
  }

  finishBatch(): u64 {
    this.rec = null;
    if (!this.failed) store<u32>(this.out.ptr + 8, this.count);
    return (<u64>this.out.ptr << 32) | <u64>this.out.len;
  }
}

/** An output record under construction; see `Output.record()`. */
export class RecordBuilder {
  private keyMode: i32 = KEEP;
  private keyPtr: usize = 0;
  private keyLen: i32 = 0;
  private keyRef: Uint8Array | null = null;
  private valueMode: i32 = KEEP;
  private valuePtr: usize = 0;
  private valueLen: i32 = 0;
  private valueRef: Uint8Array | null = null;
  private explicitHeaders: bool = false;
  private headers: Buffer = new Buffer();
  private headerCount: u32 = 0;
  private output: Output | null = null;

  reset(output: Output): void {
    this.output = output;
    this.keyMode = KEEP;
    this.keyRef = null;
    this.valueMode = KEEP;
    this.valueRef = null;
    this.explicitHeaders = false;
    this.headers.len = 0;
    this.headerCount = 0;
  }

  /** Sets the key; null makes it absent (Kafka null). */
  key(data: Uint8Array | null): RecordBuilder {
    if (data == null) {
      this.keyMode = ABSENT;
      this.keyRef = null;
    } else {
      this.keyRef = data;
      this.keyRaw(data.dataStart, data.byteLength);
    }
    return this;
  }

  /** Sets the key to `len` bytes at `ptr`, which must stay valid until emit(). */
  keyRaw(ptr: usize, len: i32): RecordBuilder {
    this.keyMode = SET;
    this.keyPtr = ptr;
    this.keyLen = len;
    return this;
  }

  /** Sets the value; null makes it absent (Kafka null). */
  value(data: Uint8Array | null): RecordBuilder {
    if (data == null) {
      this.valueMode = ABSENT;
      this.valueRef = null;
    } else {
      this.valueRef = data;
      this.valueRaw(data.dataStart, data.byteLength);
    }
    return this;
  }

  /** Sets the value to `len` bytes at `ptr`, which must stay valid until emit(). */
  valueRaw(ptr: usize, len: i32): RecordBuilder {
    this.valueMode = SET;
    this.valuePtr = ptr;
    this.valueLen = len;
    return this;
  }

  /**
   * Appends a header. The first header call (or copyHeaders/clearHeaders)
   * replaces the input's headers; call copyHeaders() first to keep them.
   */
  header(name: string, value: Uint8Array): RecordBuilder {
    return this.headerRaw(name, value.dataStart, value.byteLength);
  }

  /** Appends a header with a UTF-8 string value. */
  headerString(name: string, value: string): RecordBuilder {
    this.explicitHeaders = true;
    this.headers.str(name);
    this.headers.str(value);
    this.headerCount++;
    return this;
  }

  /** Appends a header whose value is `len` bytes at `ptr`. */
  headerRaw(name: string, ptr: usize, len: i32): RecordBuilder {
    this.explicitHeaders = true;
    this.headers.str(name);
    this.headers.bytes(ptr, len);
    this.headerCount++;
    return this;
  }

  /** Appends the input record's headers. */
  copyHeaders(): RecordBuilder {
    this.explicitHeaders = true;
    const r = changetype<Output>(this.output).input;
    this.headers.raw(r.headersPtr, r.headersLen);
    this.headerCount += <u32>r.headerCount;
    return this;
  }

  /** Writes the record with no headers (unless more are appended). */
  clearHeaders(): RecordBuilder {
    this.explicitHeaders = true;
    this.headers.len = 0;
    this.headerCount = 0;
    return this;
  }

  /** Writes the output record. */
  emit(): void {
    const out = changetype<Output>(this.output);
    if (!out.writable()) return;
    let flags: u8 = 0;
    if (this.keyMode == KEEP) flags |= OUT_KEEP_KEY;
    else if (this.keyMode == SET) flags |= OUT_KEY;
    if (this.valueMode == KEEP) flags |= OUT_KEEP_VALUE;
    else if (this.valueMode == SET) flags |= OUT_VALUE;
    if (!this.explicitHeaders) flags |= OUT_KEEP_HEADERS;
    out.begin(KIND_RECORD);
    const o = out.buffer;
    o.u8(flags);
    if (this.keyMode == SET) o.bytes(this.keyPtr, this.keyLen);
    else o.u32(0);
    if (this.valueMode == SET) o.bytes(this.valuePtr, this.valueLen);
    else o.u32(0);
    if (this.explicitHeaders) {
      o.u32(this.headerCount);
      o.raw(this.headers.ptr, this.headers.len);
    } else {
      o.u32(0);
    }
    this.keyRef = null;
    this.valueRef = null;
  }
}

// ---------------------------------------------------------------------------
// ABI exports (re-export them from the entry file)

const output = new Output();
const record = new Record();
let initError: ArrayBuffer | null = null;

export function penstock_abi_version(): i32 {
  return ABI_VERSION;
}

// Returns the input buffer, grown to `size` bytes. Running out of memory
// traps (the host then fails the batch as for any memory-limit breach).
export function penstock_alloc(size: i32): usize {
  if (size < 0) return 0;
  if (size > inBuf.byteLength) inBuf = new ArrayBuffer(size);
  return changetype<usize>(inBuf);
}

function inInput(ptr: usize, len: i32): bool {
  const start = changetype<usize>(inBuf);
  return len <= 0 || (ptr >= start && ptr + <usize>len <= start + <usize>inBuf.byteLength);
}

export function penstock_init(ptr: usize, len: i32): u64 {
  if (enricher == null) return fail("no enricher registered");
  if (!inInput(ptr, len)) return fail("config is not in the buffer from penstock_alloc");
  const config = len > 0 ? view(ptr, len) : new Uint8Array(0);
  const err = changetype<Enricher>(enricher).init(config);
  if (err == null) return 0;
  return fail(err.length > 0 ? err : "init failed");
}

function fail(message: string): u64 {
  const b = String.UTF8.encode(message);
  initError = b;
  return (<u64>changetype<usize>(b) << 32) | <u64>b.byteLength;
}

// A bounds-checked reader over the input batch.
let rp: usize = 0;
let rend: usize = 0;
let rbad = false;

function take(n: usize): usize {
  if (rbad || rend - rp < n) {
    rbad = true;
    return 0;
  }
  const p = rp;
  rp += n;
  return p;
}

function readU32(): u32 {
  const p = take(4);
  return rbad ? 0 : load<u32>(p);
}

function readRecord(r: Record): bool {
  const p = take(17);
  if (rbad) return false;
  r.offset = load<i64>(p);
  r.timestamp = load<i64>(p, 8);
  const flags = load<u8>(p, 16);
  r.logAppendTime = (flags & IN_LOG_APPEND_TIME) != 0;
  r.hasKey = (flags & IN_KEY) != 0;
  r.hasValue = (flags & IN_VALUE) != 0;
  r.keyLen = <i32>readU32();
  r.keyPtr = take(<usize>r.keyLen);
  r.valueLen = <i32>readU32();
  r.valuePtr = take(<usize>r.valueLen);
  r.headerCount = <i32>readU32();
  r.headersPtr = rp;
  for (let i = 0; i < r.headerCount && !rbad; i++) {
    take(<usize>readU32());
    take(<usize>readU32());
  }
  r.headersLen = <i32>(rp - r.headersPtr);
  return !rbad && r.keyLen >= 0 && r.valueLen >= 0 && r.headerCount >= 0;
}

export function penstock_enrich(ptr: usize, len: i32): u64 {
  output.startBatch();
  if (enricher == null) {
    output.failBatch("no enricher registered");
    return output.finishBatch();
  }
  const e = changetype<Enricher>(enricher);
  if (!inInput(ptr, len)) {
    output.failBatch("input is not in the buffer from penstock_alloc");
    return output.finishBatch();
  }
  rp = ptr;
  rend = ptr + (len > 0 ? <usize>len : 0);
  rbad = false;
  const magic = readU32();
  const count = readU32();
  const topicLen = readU32();
  const topicPtr = take(<usize>topicLen);
  const partition = <i32>readU32();
  if (rbad || magic != 0x31425350) {
    // "PSB1"
    output.failBatch("malformed input batch");
    return output.finishBatch();
  }
  record.topic = String.UTF8.decodeUnsafe(topicPtr, <usize>topicLen);
  record.partition = partition;
  for (let i: u32 = 0; i < count; i++) {
    if (!readRecord(record)) {
      output.failBatch("malformed input batch");
      break;
    }
    record.index = i;
    output.startRecord(record);
    e.enrich(record, output);
    if (output.batchFailed) break;
  }
  return output.finishBatch();
}

// ---------------------------------------------------------------------------
// abort: reports through penstock_v1.log, then traps. Wired up with
// `--use abort=assembly/penstock/penstockAbort`.

function abortPut(at: i32, s: string | null): i32 {
  if (s == null) return at;
  const str = changetype<string>(s);
  for (let i = 0; i < str.length && at < 510; i++) {
    const c = str.charCodeAt(i);
    store<u8>(abortBuf + <usize>at, c < 0x80 ? <u8>c : 0x3f); // '?'
    at++;
  }
  return at;
}

function abortNum(at: i32, n: u32): i32 {
  let digits = 1;
  for (let v = n; v >= 10; v /= 10) digits++;
  if (at + digits > 510) return at;
  for (let i = digits - 1, v = n; i >= 0; i--, v /= 10) {
    store<u8>(abortBuf + <usize>(at + i), <u8>(0x30 + v % 10));
  }
  return at + digits;
}

export function penstockAbort(
  message: string | null,
  fileName: string | null,
  lineNumber: u32,
  columnNumber: u32,
): void {
  let at = abortPut(0, "abort: ");
  at = abortPut(at, message);
  at = abortPut(at, " at ");
  at = abortPut(at, fileName);
  at = abortPut(at, ":");
  at = abortNum(at, lineNumber);
  at = abortPut(at, ":");
  at = abortNum(at, columnNumber);
  hostLog(Level.ERROR, abortBuf, <usize>at);
  unreachable();
}
