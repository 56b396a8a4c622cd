//go:build !purego

package filters

// scanFast is scan's inner loop (see scanFastGo), in assembly
// (scanfast_amd64.s): the Go compiler cannot keep the loop's state in
// registers, and spills and reloads it at every token.
//
//go:noescape
func scanFast(sc *scanner)
