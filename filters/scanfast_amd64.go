//go:build !purego

package filters

// scanFast is scan's inner loop (see scanFastGo), in assembly
// (scanfast_amd64.s): the Go compiler cannot keep the loop's state in
// registers, and spills and reloads it at every token. It uses BMI1's
// instructions, and hands the work to scanFastV1 where the CPU does not
// have them.
//
//go:noescape
func scanFast(sc *scanner)

// scanFastV1 is scanFast in the instructions of every amd64 CPU.
//
//go:noescape
func scanFastV1(sc *scanner)

// hasBMI1 reports whether the CPU has BMI1 (TZCNT, BLSR): every amd64 CPU
// since about 2013 (AMD Piledriver, Intel Haswell) but some low-power ones.
var hasBMI1 = func() bool {
	if maxID, _, _, _ := cpuid(0, 0); maxID < 7 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<3) != 0
}()
