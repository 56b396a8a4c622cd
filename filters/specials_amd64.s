//go:build !purego

#include "textflag.h"

// CLASS sets bit j of r when byte j of the 16 bytes in x is special: a
// control byte (0x00-0x1f) or a quote (0x22) is a byte c with c^0x02 <=
// 0x20 (X13 holds 0x02s, X12 0x20s), and a backslash (X14) is compared for.
// It overwrites x and X4.
#define CLASS(x, r) \
	MOVO     x, X4;   \
	PCMPEQB  X14, X4; \
	PXOR     X13, x;  \
	PMAXUB   X12, x;  \
	PCMPEQB  X12, x;  \
	POR      X4, x;   \
	PMOVMSKB x, r

// BLOCK sets AX to the bitmap of the special bytes of the 64 bytes at p.
// It overwrites X0-X4, BX, DX and R8.
#define BLOCK(p) \
	MOVOU 0(p), X0;  \
	MOVOU 16(p), X1; \
	MOVOU 32(p), X2; \
	MOVOU 48(p), X3; \
	CLASS(X0, AX);   \
	CLASS(X1, BX);   \
	CLASS(X2, DX);   \
	CLASS(X3, R8);   \
	SHLQ  $16, BX;   \
	SHLQ  $32, DX;   \
	SHLQ  $48, R8;   \
	ORQ   BX, AX;    \
	ORQ   DX, AX;    \
	ORQ   R8, AX

// BLOCKS sets the (CX+63)/64 words at DI to the bitmaps of the CX bytes
// at SI, where block(p) sets AX to the bitmap of the 64 bytes at p; CX
// must be at least 64. The last, partial block is read as the last 64
// bytes (overlapping the block before) and shifted into place, so nothing
// past SI+CX is read. It overwrites R9, and is used once per function (its
// labels).
#define BLOCKS(block) \
	MOVQ CX, R9;            \
	SHRQ $6, R9;            \
	JZ   tail;              \
loop:                       \
	block(SI);              \
	MOVQ AX, (DI);          \
	ADDQ $64, SI;           \
	ADDQ $8, DI;            \
	DECQ R9;                \
	JNZ  loop;              \
tail:                       \
	ANDQ $63, CX;           \
	JZ   done;              \
	LEAQ -64(SI)(CX*1), SI; \
	block(SI);              \
	NEGQ CX;                \
	ADDQ $64, CX;           \
	SHRQ CX, AX;            \
	MOVQ AX, (DI);          \
done:

// func specialsSSE2(dst *uint64, src *byte, n int)
//
// Sets the (n+63)/64 words at dst to the bitmap of the special bytes of the
// n bytes at src; n must be at least 64 (see BLOCKS).
TEXT ·specialsSSE2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

	MOVQ       $0x0202020202020202, AX
	MOVQ       AX, X13
	PUNPCKLQDQ X13, X13
	MOVQ       $0x5c5c5c5c5c5c5c5c, AX
	MOVQ       AX, X14
	PUNPCKLQDQ X14, X14
	MOVQ       $0x2020202020202020, AX
	MOVQ       AX, X12
	PUNPCKLQDQ X12, X12

	BLOCKS(BLOCK)
	RET

// VCLASS sets r to the bitmap of the special bytes of the 32 bytes in y,
// as CLASS does (Y13: 0x02s, Y12: 0x20s, Y14: backslashes). It overwrites
// y and Y4.
#define VCLASS(y, r) \
	VPCMPEQB  Y14, y, Y4; \
	VPXOR     Y13, y, y;  \
	VPMAXUB   Y12, y, y;  \
	VPCMPEQB  Y12, y, y;  \
	VPOR      Y4, y, y;   \
	VPMOVMSKB y, r

// VBLOCK sets AX to the bitmap of the special bytes of the 64 bytes at p.
// It overwrites Y0, Y1, Y4 and BX.
#define VBLOCK(p) \
	VMOVDQU 0(p), Y0;  \
	VMOVDQU 32(p), Y1; \
	VCLASS(Y0, AX);    \
	VCLASS(Y1, BX);    \
	SHLQ    $32, BX;   \
	ORQ     BX, AX

// func specialsAVX2(dst *uint64, src *byte, n int)
//
// specialsSSE2 with AVX2: 32 bytes per instruction. The CPU must have AVX2
// (see hasAVX2).
TEXT ·specialsAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

	MOVL         $0x02020202, AX
	MOVL         AX, X13
	VPBROADCASTD X13, Y13
	MOVL         $0x5c5c5c5c, AX
	MOVL         AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x20202020, AX
	MOVL         AX, X12
	VPBROADCASTD X12, Y12

	BLOCKS(VBLOCK)
	VZEROUPPER
	RET

// ZBLOCK sets AX to the bitmap of the special bytes of the 64 bytes at p,
// as VBLOCK does, in one register: the comparisons write the bitmap's bits
// into mask registers (Z13: 0x02s, Z12: 0x20s, Z14: backslashes). It
// overwrites Z0, K1, K2 and AX.
#define ZBLOCK(p) \
	VMOVDQU8 0(p), Z0;         \
	VPCMPEQB Z14, Z0, K2;      \
	VPXORQ   Z13, Z0, Z0;      \
	VPCMPUB  $2, Z12, Z0, K1;  \
	KORQ     K2, K1, K1;       \
	KMOVQ    K1, AX

// func specialsAVX512(dst *uint64, src *byte, n int)
//
// specialsSSE2 with AVX-512 (F and BW): 64 bytes per instruction. The CPU
// must have them (see simdLevel).
TEXT ·specialsAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

	MOVL         $0x02, AX
	VPBROADCASTB AX, Z13
	MOVL         $0x5c, AX
	VPBROADCASTB AX, Z14
	MOVL         $0x20, AX
	VPBROADCASTB AX, Z12

	BLOCKS(ZBLOCK)
	VZEROUPPER
	RET

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET
