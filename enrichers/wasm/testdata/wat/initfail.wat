;; initfail rejects every config with a message.
(module
  (memory (export "memory") 1)
  (data (i32.const 512) "config has no \"fields\"")
  (func (export "penstock_abi_version") (result i32) (i32.const 1))
  (func (export "penstock_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "penstock_init") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 512) (i64.const 32)) (i64.const 22)))
  (func (export "penstock_enrich") (param i32 i32) (result i64) (i64.const 0))
)
