// Replaces sensitive strings in JSON values with "***".
//
// Config: {"fields": ["customer.email", "card"]}, dotted paths of object
// member names from the top-level object. Where a path leads to a JSON
// string, that string token (quotes included) becomes "***"; every other
// byte of the value stays as it was. Paths that lead to anything but a
// string, or nowhere, change nothing (the record is kept as it is). A value
// that is not JSON (or absent) is reported as a record error "value is not
// JSON". Key and headers are kept.
//
// Member names are compared after decoding their escapes; every member with
// a matching name is followed, duplicates included; arrays are not entered.
import { Enricher, Output, Record, register } from "../assembly/penstock";
import { Kind, Scanner, unescape } from "../assembly/json";
export {
  penstock_abi_version,
  penstock_alloc,
  penstock_init,
  penstock_enrich,
} from "../assembly/penstock";

const NOT_JSON = "value is not JSON";
const CONFIG_SHAPE = 'mask: config must be {"fields": ["path", ...]}: ';
const CONFIG_NO_FIELDS = 'mask: config needs "fields", a list of dotted paths such as "customer.email"';
const BAD_FIELDS = CONFIG_SHAPE + '"fields" is not a list of strings';
const NOT_VALID = CONFIG_SHAPE + "not valid JSON";

/** A growable byte buffer. */
class Bytes {
  buf: ArrayBuffer = new ArrayBuffer(256);

  get ptr(): usize {
    return changetype<usize>(this.buf);
  }

  ensure(n: i32): usize {
    if (n > this.buf.byteLength) {
      let c = this.buf.byteLength;
      while (c < n) c <<= 1;
      this.buf = new ArrayBuffer(c);
    }
    return this.ptr;
  }
}

class Mask extends Enricher {
  /** Each path's segments, split at dots. */
  private paths: Array<Array<Uint8Array>> = [];
  private scanner: Scanner = new Scanner();
  /** Per open array/object: whether it is an object, and the span of its
   * current member name (quotes included), relative to the value. */
  private isObject: Array<bool> = [];
  private keyStart: Array<i32> = [];
  private keyEnd: Array<i32> = [];
  private masked: Bytes = new Bytes();
  private scratch: Bytes = new Bytes();

  init(config: Uint8Array): string | null {
    const s = new Scanner();
    const base = config.dataStart;
    const name = new Uint8Array(config.length);
    s.reset(base, config.length);
    let rc = s.next();
    if (rc < 0) return NOT_VALID;
    if (rc > 0 && s.kind == Kind.NULL) return CONFIG_NO_FIELDS;
    if (rc == 0 || s.kind != Kind.BEGIN_OBJECT) return CONFIG_SHAPE + "not an object";
    let found = false;
    while ((rc = s.next()) > 0) {
      if (s.kind != Kind.KEY || s.depth != 1) continue;
      const n = unescape(base + <usize>s.start, s.end - s.start, name.dataStart);
      if (String.UTF8.decodeUnsafe(name.dataStart, <usize>n) != "fields") continue;
      rc = s.next();
      if (rc < 0) break;
      this.paths = [];
      if (s.kind == Kind.NULL) {
        found = false;
        continue;
      }
      if (s.kind != Kind.BEGIN_ARRAY) return BAD_FIELDS;
      found = true;
      while ((rc = s.next()) > 0 && s.kind != Kind.END_ARRAY) {
        let fl = 0;
        if (s.kind == Kind.STRING) {
          fl = unescape(base + <usize>s.start, s.end - s.start, name.dataStart);
        } else if (s.kind != Kind.NULL) {
          return BAD_FIELDS;
        }
        this.paths.push(splitPath(name, fl));
      }
      if (rc < 0) break;
    }
    if (rc < 0) return NOT_VALID;
    if (!found) return CONFIG_NO_FIELDS;
    return null;
  }

  private segmentMatches(value: usize, start: i32, end: i32, seg: Uint8Array): bool {
    const raw = value + <usize>start;
    const rawLen = end - start;
    let ptr = raw + 1;
    let len = rawLen - 2;
    for (let i = 1; i < rawLen - 1; i++) {
      if (load<u8>(raw + <usize>i) == 0x5c) {
        ptr = this.scratch.ensure(rawLen);
        len = unescape(raw, rawLen, ptr);
        break;
      }
    }
    return len == seg.length && memory.compare(ptr, seg.dataStart, <usize>len) == 0;
  }

  /** Whether a string value reached through the member names of the open
   * levels (all objects) is on one of the paths. */
  private onPath(value: usize, depth: i32): bool {
    const paths = this.paths;
    for (let i = 0; i < paths.length; i++) {
      const path = unchecked(paths[i]);
      if (path.length != depth) continue;
      let k = 0;
      while (
        k < depth &&
        this.segmentMatches(value, unchecked(this.keyStart[k]), unchecked(this.keyEnd[k]), unchecked(path[k]))
      ) {
        k++;
      }
      if (k == depth) return true;
    }
    return false;
  }

  enrich(record: Record, out: Output): void {
    if (!record.hasValue) {
      out.error(NOT_JSON);
      return;
    }
    const value = record.valuePtr;
    const len = record.valueLen;
    // The output is never longer than the input plus 3 bytes per string.
    const masked = this.masked.ensure(len + len / 2 + 8);
    let n = 0;
    let copied = 0;
    let depth = 0;
    let arrays = 0;
    const s = this.scanner;
    s.reset(value, len);
    let rc: i32;
    while ((rc = s.next()) > 0) {
      const k = s.kind;
      if (k == Kind.BEGIN_OBJECT || k == Kind.BEGIN_ARRAY) {
        const object = k == Kind.BEGIN_OBJECT;
        if (depth == this.isObject.length) {
          this.isObject.push(object);
          this.keyStart.push(0);
          this.keyEnd.push(0);
        } else {
          unchecked((this.isObject[depth] = object));
        }
        if (!object) arrays++;
        depth++;
      } else if (k == Kind.END_OBJECT || k == Kind.END_ARRAY) {
        depth--;
        if (!unchecked(this.isObject[depth])) arrays--;
      } else if (k == Kind.KEY) {
        unchecked((this.keyStart[depth - 1] = s.start));
        unchecked((this.keyEnd[depth - 1] = s.end));
      } else if (k == Kind.STRING && arrays == 0 && depth > 0 && this.onPath(value, depth)) {
        memory.copy(masked + <usize>n, value + <usize>copied, <usize>(s.start - copied));
        n += s.start - copied;
        store<u8>(masked + <usize>n, 0x22);
        store<u8>(masked + <usize>n, 0x2a, 1);
        store<u8>(masked + <usize>n, 0x2a, 2);
        store<u8>(masked + <usize>n, 0x2a, 3);
        store<u8>(masked + <usize>n, 0x22, 4);
        n += 5;
        copied = s.end;
      }
    }
    if (rc < 0) {
      out.error(NOT_JSON);
      return;
    }
    if (copied == 0) {
      out.keep(); // nothing masked
      return;
    }
    memory.copy(masked + <usize>n, value + <usize>copied, <usize>(len - copied));
    n += len - copied;
    out.record().valueRaw(masked, n).emit();
  }
}

function splitPath(s: Uint8Array, len: i32): Array<Uint8Array> {
  const segments: Array<Uint8Array> = [];
  let start = 0;
  for (let i = 0; i <= len; i++) {
    if (i == len || s[i] == 0x2e) {
      segments.push(s.slice(start, i));
      start = i + 1;
    }
  }
  return segments;
}

register(new Mask());
