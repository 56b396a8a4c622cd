;; env provides the imports of sections.wasm.
(module
  (global (export "g0") i32 (i32.const 5))
  (func (export "f0") (param i32) (result i32) (local.get 0))
)
