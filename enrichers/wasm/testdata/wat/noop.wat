;; noop returns every input record unchanged (keep key, value and headers)
;; without reading the records: the least a guest can do, so that benchmarks
;; measure the host.
(module
  (memory (export "memory") 2)

  ;; The input buffer starts at 64 KiB; the output follows it.
  (global $in i32 (i32.const 65536))

  (func (export "penstock_abi_version") (result i32) (i32.const 1))

  ;; ensure grows memory so that [0, end) is addressable, or traps.
  (func $ensure (param $end i32)
    (local $have i32)
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16)))
              (i32.const -1))
          (then unreachable)))))

  (func (export "penstock_alloc") (param $size i32) (result i32)
    (call $ensure (i32.add (global.get $in) (local.get $size)))
    (global.get $in))

  (func (export "penstock_init") (param i32 i32) (result i64) (i64.const 0))

  (func (export "penstock_enrich") (param $ptr i32) (param $len i32) (result i64)
    (local $count i32) (local $out i32) (local $size i32) (local $p i32) (local $i i32)
    (local.set $count (i32.load offset=4 (local.get $ptr)))
    (local.set $out (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
    (local.set $size (i32.add (i32.const 12) (i32.mul (local.get $count) (i32.const 18))))
    (call $ensure (i32.add (local.get $out) (local.get $size)))
    (i32.store (local.get $out) (i32.const 0x314f5350)) ;; "PSO1"
    (i32.store offset=4 (local.get $out) (i32.const 0))  ;; status
    (i32.store offset=8 (local.get $out) (local.get $count))
    (local.set $p (i32.add (local.get $out) (i32.const 12)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (i32.store (local.get $p) (local.get $i))                ;; input
        (i32.store16 offset=4 (local.get $p) (i32.const 0x1c00)) ;; kind 0, flags: keep all
        (i64.store offset=6 (local.get $p) (i64.const 0))        ;; key_len, value_len
        (i32.store offset=14 (local.get $p) (i32.const 0))       ;; header_count
        (local.set $p (i32.add (local.get $p) (i32.const 18)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32))
      (i64.extend_i32_u (local.get $size))))
)
