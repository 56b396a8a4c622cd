;; noenrich lacks penstock_enrich.
(module
  (memory (export "memory") 1)
  (func (export "penstock_abi_version") (result i32) (i32.const 1))
  (func (export "penstock_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "penstock_init") (param i32 i32) (result i64) (i64.const 0))
)
