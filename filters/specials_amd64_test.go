//go:build !purego

package filters

// specialsVariants are the versions of fillSpecials this CPU can run, for
// checkReader to compare with the definition.
func specialsVariants() map[string]func(dst []uint64, src []byte) {
	v := map[string]func(dst []uint64, src []byte){
		"specialsGo": specialsGo,
		"SSE2":       func(dst []uint64, src []byte) { fillSpecialsSIMD(dst, src, false) },
	}
	if hasAVX2 {
		v["AVX2"] = func(dst []uint64, src []byte) { fillSpecialsSIMD(dst, src, true) }
	}
	return v
}
