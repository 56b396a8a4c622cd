//go:build !purego

package filters

// specialsSSE2 is in specials_amd64.s. SSE2 is part of every amd64 CPU, so
// no feature check is needed.
//
//go:noescape
func specialsSSE2(dst *uint64, src *byte, n int)

// fillSpecials sets dst[k] to the bitmap of the special bytes of
// src[64k:64k+64] for every block of src, as specialsGo does; dst must hold
// (len(src)+63)/64 words.
func fillSpecials(dst []uint64, src []byte) {
	if len(src) >= blockSize {
		_ = dst[(len(src)+blockSize-1)/blockSize-1]
		specialsSSE2(&dst[0], &src[0], len(src))
		return
	}
	if len(src) > 0 {
		// Too short to read as a block: copy it into one padded with a
		// byte that is not special.
		t := padBlock
		copy(t[:], src)
		specialsSSE2(&dst[0], &t[0], blockSize)
	}
}
