;; faulty misbehaves on request: the first byte of the first record's value
;; picks what penstock_enrich does, so that one instance can fail and the
;; next batch can show that a fresh instance works.
;;
;;   t  trap (unreachable)
;;   l  loop forever
;;   r  recurse exponentially, without a loop (fib 60)
;;   m  grow memory until refused, then trap
;;   b  output whose first record claims a value longer than the output
;;   x  output naming an input index out of range
;;   z  return 0
;;   h  return an output length over the output limit
;;   s  log 10000 lines through penstock_v1.log and 10000 lines to stdout,
;;      then keep every record
;;   f  fail the whole batch with the message "guest says no"
;;   e  report the error "bad record" for every record
;;   d  drop every record (count = 0)
;;   anything else, or no value: keep every record
;;
;; penstock_init misbehaves when the config is a JSON string: "loop" loops
;; forever, "trap" traps.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "penstock_v1" "log" (func $log (param i32 i32 i32)))

  (memory (export "memory") 2)
  (data (i32.const 1024) "spam from log")
  (data (i32.const 1056) "spam from stdout\n")
  (data (i32.const 1088) "guest says no")
  (data (i32.const 1120) "bad record")

  (global $in i32 (i32.const 65536))

  (func (export "penstock_abi_version") (result i32) (i32.const 1))

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

  (func (export "penstock_init") (param $ptr i32) (param $len i32) (result i64)
    (if (i32.ge_u (local.get $len) (i32.const 2))
      (then
        (if (i32.eq (i32.load8_u offset=1 (local.get $ptr)) (i32.const 0x6c)) ;; "l...
          (then (loop $forever (br $forever))))
        (if (i32.eq (i32.load8_u offset=1 (local.get $ptr)) (i32.const 0x74)) ;; "t...
          (then unreachable))))
    (i64.const 0))

  ;; mode returns the first byte of the first record's value, or 0.
  (func $mode (param $ptr i32) (result i32)
    (local $p i32)
    ;; skip magic, count, topic_len, topic, partition
    (local.set $p (i32.add (i32.add (local.get $ptr) (i32.const 16)) (i32.load offset=8 (local.get $ptr))))
    ;; skip offset, timestamp, flags, then the key
    (local.set $p (i32.add (i32.add (local.get $p) (i32.const 21)) (i32.load offset=17 (local.get $p))))
    (if (result i32) (i32.eqz (i32.load (local.get $p)))
      (then (i32.const 0))
      (else (i32.load8_u offset=4 (local.get $p)))))

  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else
        (i32.add
          (call $fib (i32.sub (local.get $n) (i32.const 1)))
          (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  ;; result packs (ptr << 32) | len.
  (func $result (param $ptr i32) (param $len i32) (result i64)
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))

  (func (export "penstock_enrich") (param $ptr i32) (param $len i32) (result i64)
    (local $count i32) (local $out i32) (local $size i32) (local $p i32) (local $i i32) (local $mode i32)
    (local.set $count (i32.load offset=4 (local.get $ptr)))
    (local.set $mode (call $mode (local.get $ptr)))
    (local.set $out (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
    ;; room for the largest output of any mode
    (call $ensure (i32.add (local.get $out) (i32.add (i32.const 64) (i32.mul (local.get $count) (i32.const 32)))))
    (i32.store (local.get $out) (i32.const 0x314f5350)) ;; "PSO1"
    (i32.store offset=4 (local.get $out) (i32.const 0))
    (i32.store offset=8 (local.get $out) (local.get $count))

    (if (i32.eq (local.get $mode) (i32.const 0x74)) ;; t
      (then unreachable))
    (if (i32.eq (local.get $mode) (i32.const 0x6c)) ;; l
      (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $mode) (i32.const 0x72)) ;; r
      (then (drop (call $fib (i32.const 60)))))
    (if (i32.eq (local.get $mode) (i32.const 0x6d)) ;; m
      (then
        (loop $grow
          (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
        unreachable))
    (if (i32.eq (local.get $mode) (i32.const 0x7a)) ;; z
      (then (return (i64.const 0))))
    (if (i32.eq (local.get $mode) (i32.const 0x68)) ;; h
      (then (return (call $result (local.get $out) (i32.const 0x7fffffff)))))
    (if (i32.eq (local.get $mode) (i32.const 0x66)) ;; f
      (then
        (i32.store offset=4 (local.get $out) (i32.const 1))
        (i32.store offset=8 (local.get $out) (i32.const 13))
        (memory.copy (i32.add (local.get $out) (i32.const 12)) (i32.const 1088) (i32.const 13))
        (return (call $result (local.get $out) (i32.const 25)))))
    (if (i32.eq (local.get $mode) (i32.const 0x64)) ;; d
      (then
        (i32.store offset=8 (local.get $out) (i32.const 0))
        (return (call $result (local.get $out) (i32.const 12)))))
    (if (i32.eq (local.get $mode) (i32.const 0x73)) ;; s
      (then
        ;; iovec at 2048: {1056, 17}; nwritten at 2056
        (i32.store (i32.const 2048) (i32.const 1056))
        (i32.store (i32.const 2052) (i32.const 17))
        (local.set $i (i32.const 0))
        (loop $spam
          (call $log (i32.const 1) (i32.const 1024) (i32.const 13))
          (drop (call $fd_write (i32.const 1) (i32.const 2048) (i32.const 1) (i32.const 2056)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $spam (i32.lt_u (local.get $i) (i32.const 10000))))
        (local.set $i (i32.const 0))))

    (local.set $p (i32.add (local.get $out) (i32.const 12)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (if (i32.eq (local.get $mode) (i32.const 0x65)) ;; e
          (then
            (i32.store (local.get $p) (local.get $i))
            (i32.store8 offset=4 (local.get $p) (i32.const 1))
            (i32.store offset=5 (local.get $p) (i32.const 10))
            (memory.copy (i32.add (local.get $p) (i32.const 9)) (i32.const 1120) (i32.const 10))
            (local.set $p (i32.add (local.get $p) (i32.const 19))))
          (else
            (i32.store (local.get $p) (local.get $i))
            (i32.store16 offset=4 (local.get $p) (i32.const 0x1c00)) ;; kind 0, keep all
            (i64.store offset=6 (local.get $p) (i64.const 0))
            (i32.store offset=14 (local.get $p) (i32.const 0))
            (if (i32.and (i32.eqz (local.get $i)) (i32.eq (local.get $mode) (i32.const 0x62))) ;; b
              (then
                ;; value present with 1 MiB of bytes that are not there
                (i32.store8 offset=5 (local.get $p) (i32.const 0x16))
                (i32.store offset=10 (local.get $p) (i32.const 0x100000))))
            (if (i32.and (i32.eqz (local.get $i)) (i32.eq (local.get $mode) (i32.const 0x78))) ;; x
              (then (i32.store (local.get $p) (local.get $count))))
            (local.set $p (i32.add (local.get $p) (i32.const 18)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $result (local.get $out) (i32.sub (local.get $p) (local.get $out))))
)
