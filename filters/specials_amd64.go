//go:build !purego

package filters

// specialsSSE2 and specialsAVX2 are in specials_amd64.s. SSE2 is part of
// every amd64 CPU; AVX2 is used where the CPU and the OS support it.
//
//go:noescape
func specialsSSE2(dst *uint64, src *byte, n int)

//go:noescape
func specialsAVX2(dst *uint64, src *byte, n int)

// cpuid executes CPUID with EAX and ECX set to its arguments.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv returns XCR0, the register states the OS saves.
func xgetbv() (eax, edx uint32)

// hasAVX2 reports whether the CPU has AVX2 and the OS saves the YMM
// registers.
var hasAVX2 = func() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}()

// fillSpecials sets dst[k] to the bitmap of the special bytes of
// src[64k:64k+64] for every block of src, as specialsGo does; dst must hold
// (len(src)+63)/64 words.
func fillSpecials(dst []uint64, src []byte) { fillSpecialsSIMD(dst, src, hasAVX2) }

// fillSpecialsSIMD is fillSpecials with AVX2 (avx2, which the CPU must
// have) or SSE2.
func fillSpecialsSIMD(dst []uint64, src []byte, avx2 bool) {
	if len(src) >= blockSize {
		_ = dst[(len(src)+blockSize-1)/blockSize-1]
		if avx2 {
			specialsAVX2(&dst[0], &src[0], len(src))
		} else {
			specialsSSE2(&dst[0], &src[0], len(src))
		}
		return
	}
	if len(src) > 0 {
		// Too short to read as a block: copy it into one padded with a
		// byte that is not special.
		t := padBlock
		copy(t[:], src)
		if avx2 {
			specialsAVX2(&dst[0], &t[0], blockSize)
		} else {
			specialsSSE2(&dst[0], &t[0], blockSize)
		}
	}
}
