//go:build !purego

package filters

// specialsSSE2, specialsAVX2 and specialsAVX512 are in specials_amd64.s.
// SSE2 is part of every amd64 CPU; AVX2 and AVX-512 are used where the CPU
// and the OS support them.
//
//go:noescape
func specialsSSE2(dst *uint64, src *byte, n int)

//go:noescape
func specialsAVX2(dst *uint64, src *byte, n int)

//go:noescape
func specialsAVX512(dst *uint64, src *byte, n int)

// cpuid executes CPUID with EAX and ECX set to its arguments.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv returns XCR0, the register states the OS saves.
func xgetbv() (eax, edx uint32)

// The instruction sets fillSpecials can use.
const (
	simdSSE2 = iota
	simdAVX2
	simdAVX512 // AVX-512 F and BW
)

// simdLevel is the best instruction set for fillSpecials that the CPU has
// and whose registers the OS saves.
var simdLevel = func() int {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return simdSSE2
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return simdSSE2
	}
	xcr0, _ := xgetbv()
	if xcr0&6 != 6 { // XMM and YMM state
		return simdSSE2
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2, avx512f, avx512bw = 1 << 5, 1 << 16, 1 << 30
	if ebx7&avx512f != 0 && ebx7&avx512bw != 0 && xcr0&0xe6 == 0xe6 { // and the opmask and ZMM states
		return simdAVX512
	}
	if ebx7&avx2 != 0 {
		return simdAVX2
	}
	return simdSSE2
}()

// fillSpecials sets dst[k] to the bitmap of the special bytes of
// src[64k:64k+64] for every block of src, as specialsGo does; dst must hold
// (len(src)+63)/64 words.
func fillSpecials(dst []uint64, src []byte) { fillSpecialsSIMD(dst, src, simdLevel) }

// fillSpecialsSIMD is fillSpecials with the instruction set level, which
// the CPU must have.
func fillSpecialsSIMD(dst []uint64, src []byte, level int) {
	if len(src) >= blockSize {
		_ = dst[(len(src)+blockSize-1)/blockSize-1]
		specialsLevel(level, &dst[0], &src[0], len(src))
		return
	}
	if len(src) > 0 {
		// Too short to read as a block: copy it into one padded with a
		// byte that is not special.
		t := padBlock
		copy(t[:], src)
		specialsLevel(level, &dst[0], &t[0], blockSize)
	}
}

// specialsLevel calls the version of level.
func specialsLevel(level int, dst *uint64, src *byte, n int) {
	switch level {
	case simdAVX512:
		specialsAVX512(dst, src, n)
	case simdAVX2:
		specialsAVX2(dst, src, n)
	default:
		specialsSSE2(dst, src, n)
	}
}
