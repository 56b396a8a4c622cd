// Splits a JSON array value into one record per element (the element's
// bytes as in the input, key and headers kept). An empty array drops the
// record; any other JSON value passes through unchanged.
import { Enricher, Output, Record, register } from "../assembly/penstock";
import { Kind, Scanner } from "../assembly/json";
export {
  penstock_abi_version,
  penstock_alloc,
  penstock_init,
  penstock_enrich,
} from "../assembly/penstock";

const NOT_JSON = "value is not JSON";

class Split extends Enricher {
  private scanner: Scanner = new Scanner();

  enrich(record: Record, out: Output): void {
    if (!record.hasValue) {
      out.error(NOT_JSON);
      return;
    }
    const value = record.valuePtr;
    const s = this.scanner;
    s.reset(value, record.valueLen);
    if (s.next() < 0) {
      out.error(NOT_JSON);
      return;
    }
    const isArray = s.kind == Kind.BEGIN_ARRAY;
    let elementStart = 0;
    let rc: i32;
    while ((rc = s.next()) > 0) {
      if (!isArray) continue; // validate the rest
      // Elements of the top-level array live at depth 1: a scalar there is
      // a whole element; a container starts by entering depth 2 and ends by
      // coming back to depth 1.
      const k = s.kind;
      if (k == Kind.BEGIN_ARRAY || k == Kind.BEGIN_OBJECT) {
        if (s.depth == 2) elementStart = s.start;
      } else if (k == Kind.END_ARRAY || k == Kind.END_OBJECT) {
        if (s.depth == 1) {
          out.record().valueRaw(value + <usize>elementStart, s.end - elementStart).emit();
        }
      } else if (k != Kind.KEY && s.depth == 1) {
        out.record().valueRaw(value + <usize>s.start, s.end - s.start).emit();
      }
    }
    if (rc < 0) out.error(NOT_JSON); // discards the elements emitted so far
    else if (!isArray) out.keep();
  }
}

register(new Split());
