;; sections has imported and defined globals, a start function, a table
;; with elements, data and loops in several functions, to check that
;; instrumentation keeps every index right.
(module
  (import "env" "g0" (global $g0 i32))
  (import "env" "f0" (func $f0 (param i32) (result i32)))
  (memory 1)
  (table 2 funcref)
  (global $g1 (mut i32) (i32.const 7))
  (global $g2 i64 (i64.const 8))
  (elem (i32.const 0) $count $loops)
  (data (i32.const 16) "data")
  (start $init)
  (func $init (global.set $g1 (i32.const 9)))
  (func $count (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i))
  (func $loops (export "loops") (param $n i32) (result i32)
    (local $sum i32)
    (loop $outer
      (loop $inner
        (local.set $sum (i32.add (local.get $sum) (call_indirect (param i32) (result i32) (i32.const 3) (i32.const 0))))
        (br_if $inner (i32.lt_u (local.get $sum) (i32.const 9))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $outer (local.get $n)))
    (i32.add (local.get $sum) (i32.add (global.get $g0) (global.get $g1))))
)
