//go:build !purego

#include "go_asm.h"
#include "textflag.h"

// func scanFast(sc *scanner)
// func scanFastV1(sc *scanner)
//
// scanFastGo, instruction for instruction where it can be: see there for
// what each step does. The body is in scanfast.h, included twice: in
// scanFast with BMI1's TZCNT and BLSR, for CPUs that have them (see
// hasBMI1; scanFast hands the others to scanFastV1), and in scanFastV1
// with their equivalents in the instructions of every amd64 CPU. TZCNT and
// BLSR each take one cycle where the others take two or three, and the
// cursor's bits are consumed one after the other, so this is the chain
// the loop waits on in a run of strings. Registers:
//
//	R11  sc
//	SI   &b[0]
//	DI   len(b)
//	BX   i
//	DX   d, the open containers
//	R8   stack, bit 0: the innermost open container is an object
//	R9   cursor base
//	R10  cursor bits
//	R13  ks, in the key path
//	AX, CX, R12, R14, R15: scratch (CX for shift counts)
//
// A string's closing quote, found in the bitmap, is before len(b): the
// bitmap has no bits past the end of the document.
//
// FIRSTBIT(x, r) sets r to the index of the lowest set bit of x, or to 63
// (V1) or 64 (BMI) when x is zero: both are right for strEnd's test that
// the lowest bit is at i, since a cursor without bits is then reloaded
// from the window whatever the test said. LOWBIT(x, r) sets r to the index
// of the lowest set bit of x, which is not zero. DROPLOW(x, r) sets r to x
// without its lowest set bit, and ZF when that is zero.

#define FIRSTBIT(x, r) TZCNTQ x, r
#define LOWBIT(x, r) TZCNTQ x, r
#define DROPLOW(x, r) BLSRQ x, r

TEXT ·scanFast(SB), NOSPLIT, $0-8
	CMPB ·hasBMI1(SB), $0
	JNE  bmi
	JMP  ·scanFastV1(SB)

bmi:
#include "scanfast.h"

#undef FIRSTBIT
#undef LOWBIT
#undef DROPLOW
#define FIRSTBIT(x, r) MOVQ x, r; BTSQ $63, r; BSFQ r, r
#define LOWBIT(x, r) BSFQ x, r
#define DROPLOW(x, r) LEAQ -1(x), r; ANDQ x, r

TEXT ·scanFastV1(SB), NOSPLIT, $0-8
#include "scanfast.h"
