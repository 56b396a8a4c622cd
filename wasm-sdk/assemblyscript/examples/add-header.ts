// Appends a header x-fnv1a: the 32-bit FNV-1a hash of the value, as 8
// lowercase hex digits. Key and value are kept.
import { Enricher, Output, Record, register } from "../assembly/penstock";
export {
  penstock_abi_version,
  penstock_alloc,
  penstock_init,
  penstock_enrich,
} from "../assembly/penstock";

const DIGITS = "0123456789abcdef";

function fnv1a(ptr: usize, len: i32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < len; i++) {
    h ^= <u32>load<u8>(ptr + <usize>i);
    h *= 0x01000193;
  }
  return h;
}

class AddHeader extends Enricher {
  private hex: usize = memory.data(8);

  enrich(record: Record, out: Output): void {
    const h = fnv1a(record.valuePtr, record.hasValue ? record.valueLen : 0);
    for (let i = 0; i < 8; i++) {
      store<u8>(this.hex + <usize>i, <u8>DIGITS.charCodeAt((h >> (28 - 4 * i)) & 0xf));
    }
    out.record().copyHeaders().headerRaw("x-fnv1a", this.hex, 8).emit();
  }
}

register(new AddHeader());
