;; badimport imports a function Penstock does not provide.
(module
  (import "env" "now" (func (result i64)))
  (memory (export "memory") 1)
  (func (export "penstock_abi_version") (result i32) (i32.const 1))
  (func (export "penstock_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "penstock_init") (param i32 i32) (result i64) (i64.const 0))
  (func (export "penstock_enrich") (param i32 i32) (result i64) (i64.const 0))
)
