;; bare has neither globals nor exports: instrumentation adds both sections.
(module
  (memory 1)
  (func $spin (loop (br 0)))
  (func $call (call $spin))
)
