//go:build wasip1

package penstock

import "unsafe"

// The exports and the import of ABI.md.

//go:wasmexport penstock_abi_version
func exportVersion() int32 { return abiVersion }

//go:wasmexport penstock_alloc
func exportAlloc(size uint32) uint32 {
	return uint32(uintptr(unsafe.Pointer(allocInput(int(size)))))
}

//go:wasmexport penstock_init
func exportInit(ptr, n uint32) uint64 {
	cfg := input(uintptr(ptr), n)
	var msg []byte
	if cfg == nil && n > 0 {
		msg = []byte("penstock_init: the config is not where penstock_alloc put it")
	} else if msg = runInit(cfg); msg == nil {
		return 0
	}
	if len(msg) == 0 {
		msg = []byte("init failed")
	}
	g.errMsg = msg // keeps the message reachable for the host
	return result(msg)
}

//go:wasmexport penstock_enrich
func exportEnrich(ptr, n uint32) uint64 {
	return result(runEnrich(input(uintptr(ptr), n)))
}

// result packs the address and length of b, which is not empty and stays
// reachable from g until the next call.
func result(b []byte) uint64 {
	return uint64(uintptr(unsafe.Pointer(&b[0])))<<32 | uint64(len(b))
}

//go:wasmimport penstock_v1 log
//go:noescape
func penstockLog(level int32, ptr unsafe.Pointer, n uint32)

func hostLog(level Level, msg string) {
	penstockLog(int32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}
