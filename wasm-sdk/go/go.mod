module github.com/penstock-dev/penstock/wasm-sdk/go

go 1.24
