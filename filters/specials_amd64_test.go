//go:build !purego

package filters

// specialsVariants are the versions of fillSpecials this CPU can run, for
// checkReader to compare with the definition.
func specialsVariants() map[string]func(dst []uint64, src []byte) {
	v := map[string]func(dst []uint64, src []byte){
		"specialsGo": specialsGo,
		"SSE2":       func(dst []uint64, src []byte) { fillSpecialsSIMD(dst, src, simdSSE2) },
	}
	if simdLevel >= simdAVX2 {
		v["AVX2"] = func(dst []uint64, src []byte) { fillSpecialsSIMD(dst, src, simdAVX2) }
	}
	if simdLevel >= simdAVX512 {
		v["AVX512"] = func(dst []uint64, src []byte) { fillSpecialsSIMD(dst, src, simdAVX512) }
	}
	return v
}

// scanFastVariants are the versions of scanFast this CPU can run, for
// checkReader to compare with scanFastGo.
var scanFastVariants = func() []scanVariant {
	v := []scanVariant{{"V1", scanFastV1}}
	if hasBMI1 {
		v = append(v, scanVariant{"BMI", scanFast})
	}
	return v
}()
