//go:build !amd64 || purego

package filters

// fillSpecials sets dst[k] to the bitmap of the special bytes of
// src[64k:64k+64] for every block of src; dst must hold (len(src)+63)/64
// words.
func fillSpecials(dst []uint64, src []byte) { specialsGo(dst, src) }
