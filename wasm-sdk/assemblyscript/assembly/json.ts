// A small JSON (RFC 8259) tokenizer that reports byte spans, for enrichers
// that inspect or patch JSON values without re-serialising them. Scanning
// does not allocate.
//
//   const s = new Scanner();          // keep it: it holds the nesting stack
//   s.reset(record.valuePtr, record.valueLen);
//   let rc: i32;
//   while ((rc = s.next()) > 0) {
//     // s.kind, and the token's bytes at [s.start, s.end) from the text's start
//   }
//   if (rc < 0) { /* not JSON */ }
//
// next() returns 1 for a token, 0 at the end of a valid text and -1 at the
// first syntax error (including trailing bytes after the value), after which
// it keeps returning -1.
//
// Choices shared by the Penstock SDKs of every language: bytes of 0x80 and
// above inside strings are not checked as UTF-8, and more than MAX_DEPTH
// nested arrays and objects are a syntax error.

/** The deepest nesting of arrays and objects accepted. */
export const MAX_DEPTH: i32 = 1000;

export namespace Kind {
  export const BEGIN_OBJECT: i32 = 0;
  export const END_OBJECT: i32 = 1;
  export const BEGIN_ARRAY: i32 = 2;
  export const END_ARRAY: i32 = 3;
  /** An object member's name. */
  export const KEY: i32 = 4;
  export const STRING: i32 = 5;
  export const NUMBER: i32 = 6;
  export const TRUE: i32 = 7;
  export const FALSE: i32 = 8;
  export const NULL: i32 = 9;
}

const S_VALUE = 0;
const S_VALUE_OR_END = 1;
const S_KEY = 2;
const S_KEY_OR_END = 3;
const S_COLON = 4;
const S_AFTER_VALUE = 5;
const S_DONE = 6;
const S_FAILED = 7;

const OBJ: u8 = 0x7b; // {
const ARR: u8 = 0x5b; // [

export class Scanner {
  /** The last token: its kind and byte span. */
  kind: i32 = 0;
  start: i32 = 0;
  end: i32 = 0;
  /** Arrays and objects open after the last token. */
  depth: i32 = 0;

  private src: usize = 0;
  private len: i32 = 0;
  private pos: i32 = 0;
  private state: i32 = S_VALUE;
  /** Per open container: '{' or '['. */
  private stack: StaticArray<u8> = new StaticArray<u8>(MAX_DEPTH);

  /** Starts scanning the `len` bytes at `ptr`. */
  reset(ptr: usize, len: i32): void {
    this.src = ptr;
    this.len = len;
    this.pos = 0;
    this.depth = 0;
    this.state = S_VALUE;
  }

  @inline private at(i: i32): i32 {
    return i < this.len ? <i32>load<u8>(this.src + <usize>i) : -1;
  }

  private fail(): i32 {
    this.state = S_FAILED;
    return -1;
  }

  private token(kind: i32, start: i32): i32 {
    this.kind = kind;
    this.start = start;
    this.end = this.pos;
    return 1;
  }

  private push(c: u8): bool {
    if (this.depth == MAX_DEPTH) return false;
    store<u8>(changetype<usize>(this.stack) + <usize>this.depth, c);
    this.depth++;
    return true;
  }

  private close(kind: i32): i32 {
    const start = this.pos++;
    this.depth--;
    this.state = S_AFTER_VALUE;
    return this.token(kind, start);
  }

  private digits(): i32 {
    const start = this.pos;
    let c = this.at(this.pos);
    while (c >= 0x30 && c <= 0x39) c = this.at(++this.pos);
    return this.pos - start;
  }

  private number(): bool {
    if (this.at(this.pos) == 0x2d) this.pos++; // -
    const c = this.at(this.pos);
    if (c == 0x30) this.pos++;
    else if (c >= 0x31 && c <= 0x39) this.digits();
    else return false;
    if (this.at(this.pos) == 0x2e) {
      // .
      this.pos++;
      if (this.digits() == 0) return false;
    }
    const e = this.at(this.pos);
    if (e == 0x65 || e == 0x45) {
      // e E
      this.pos++;
      const s = this.at(this.pos);
      if (s == 0x2b || s == 0x2d) this.pos++;
      if (this.digits() == 0) return false;
    }
    return true;
  }

  private string(): bool {
    let i = this.pos + 1;
    for (;;) {
      const c = this.at(i);
      if (c < 0) {
        this.pos = i;
        return false;
      }
      if (c == 0x22) break; // "
      if (c == 0x5c) {
        // backslash
        const e = this.at(i + 1);
        if (
          e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 ||
          e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74
        ) {
          i += 2;
        } else if (
          e == 0x75 && isHex(this.at(i + 2)) && isHex(this.at(i + 3)) &&
          isHex(this.at(i + 4)) && isHex(this.at(i + 5))
        ) {
          i += 6;
        } else {
          this.pos = i;
          return false;
        }
      } else if (c < 0x20) {
        this.pos = i;
        return false;
      } else {
        i++;
      }
    }
    this.pos = i + 1;
    return true;
  }

  private literal(word: string): bool {
    const n = word.length;
    if (this.len - this.pos < n) return false;
    for (let k = 0; k < n; k++) {
      if (this.at(this.pos + k) != word.charCodeAt(k)) return false;
    }
    this.pos += n;
    return true;
  }

  private value(): i32 {
    const start = this.pos;
    const c = this.at(this.pos);
    let kind: i32;
    if (c == OBJ || c == ARR) {
      if (!this.push(<u8>c)) return this.fail();
      this.pos++;
      if (c == OBJ) {
        this.state = S_KEY_OR_END;
        return this.token(Kind.BEGIN_OBJECT, start);
      }
      this.state = S_VALUE_OR_END;
      return this.token(Kind.BEGIN_ARRAY, start);
    } else if (c == 0x22) {
      if (!this.string()) return this.fail();
      kind = Kind.STRING;
    } else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
      if (!this.number()) return this.fail();
      kind = Kind.NUMBER;
    } else if (c == 0x74) {
      if (!this.literal("true")) return this.fail();
      kind = Kind.TRUE;
    } else if (c == 0x66) {
      if (!this.literal("false")) return this.fail();
      kind = Kind.FALSE;
    } else if (c == 0x6e) {
      if (!this.literal("null")) return this.fail();
      kind = Kind.NULL;
    } else {
      return this.fail();
    }
    this.state = S_AFTER_VALUE;
    return this.token(kind, start);
  }

  /** Scans the next token: 1 for a token, 0 at the end, -1 on a syntax error. */
  next(): i32 {
    for (;;) {
      const state = this.state;
      if (state == S_DONE) return 0;
      if (state == S_FAILED) return -1;
      let c = this.at(this.pos);
      while (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) c = this.at(++this.pos);
      if (state == S_VALUE) return this.value();
      if (state == S_VALUE_OR_END) {
        if (c == 0x5d) return this.close(Kind.END_ARRAY);
        return this.value();
      }
      if (state == S_KEY || state == S_KEY_OR_END) {
        if (state == S_KEY_OR_END && c == 0x7d) return this.close(Kind.END_OBJECT);
        const start = this.pos;
        if (c != 0x22 || !this.string()) return this.fail();
        this.state = S_COLON;
        return this.token(Kind.KEY, start);
      }
      if (state == S_COLON) {
        if (c != 0x3a) return this.fail();
        this.pos++;
        this.state = S_VALUE;
        continue;
      }
      // S_AFTER_VALUE
      if (this.depth == 0) {
        if (c != -1) return this.fail();
        this.state = S_DONE;
        return 0;
      }
      const top = load<u8>(changetype<usize>(this.stack) + <usize>(this.depth - 1));
      if (c == 0x2c) {
        this.pos++;
        this.state = top == ARR ? S_VALUE : S_KEY;
      } else if (top == ARR && c == 0x5d) {
        return this.close(Kind.END_ARRAY);
      } else if (top == OBJ && c == 0x7d) {
        return this.close(Kind.END_OBJECT);
      } else {
        return this.fail();
      }
    }
    return -1; // not reached
  }
}

const validator = new Scanner();

function isHex(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Whether the `len` bytes at `ptr` are one JSON value with optional whitespace. */
export function isValid(ptr: usize, len: i32): bool {
  const s = validator;
  s.reset(ptr, len);
  let rc: i32;
  while ((rc = s.next()) > 0) {}
  return rc == 0;
}

function hex4(p: usize): u32 {
  let v: u32 = 0;
  for (let i: usize = 0; i < 4; i++) {
    const c = <u32>load<u8>(p + i);
    v = v * 16 + (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10);
  }
  return v;
}

/**
 * Decodes the string token of `rawLen` bytes at `raw` (quotes included) into
 * `out`, which must hold rawLen bytes; returns the decoded length. Lone
 * surrogates decode as U+FFFD.
 */
export function unescape(raw: usize, rawLen: i32, out: usize): i32 {
  if (rawLen < 2) return 0;
  let p = raw + 1;
  const end = raw + <usize>rawLen - 1;
  let n: usize = 0;
  while (p < end) {
    const c = load<u8>(p);
    if (c != 0x5c || p + 1 >= end) {
      store<u8>(out + n++, c);
      p++;
      continue;
    }
    const e = load<u8>(p + 1);
    p += 2;
    let simple: i32 = -1;
    if (e == 0x62) simple = 0x08;
    else if (e == 0x66) simple = 0x0c;
    else if (e == 0x6e) simple = 0x0a;
    else if (e == 0x72) simple = 0x0d;
    else if (e == 0x74) simple = 0x09;
    else if (e != 0x75) simple = e;
    if (simple >= 0) {
      store<u8>(out + n++, <u8>simple);
      continue;
    }
    if (end - p < 4) break;
    let cp = hex4(p);
    p += 4;
    if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && load<u8>(p) == 0x5c && load<u8>(p + 1) == 0x75) {
      const lo = hex4(p + 2);
      if (lo >= 0xdc00 && lo < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
      }
    }
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
    if (cp < 0x80) {
      store<u8>(out + n++, <u8>cp);
    } else if (cp < 0x800) {
      store<u8>(out + n++, <u8>(0xc0 | (cp >> 6)));
      store<u8>(out + n++, <u8>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      store<u8>(out + n++, <u8>(0xe0 | (cp >> 12)));
      store<u8>(out + n++, <u8>(0x80 | ((cp >> 6) & 0x3f)));
      store<u8>(out + n++, <u8>(0x80 | (cp & 0x3f)));
    } else {
      store<u8>(out + n++, <u8>(0xf0 | (cp >> 18)));
      store<u8>(out + n++, <u8>(0x80 | ((cp >> 12) & 0x3f)));
      store<u8>(out + n++, <u8>(0x80 | ((cp >> 6) & 0x3f)));
      store<u8>(out + n++, <u8>(0x80 | (cp & 0x3f)));
    }
  }
  return <i32>n;
}
