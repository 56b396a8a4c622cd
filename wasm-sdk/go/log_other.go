//go:build !wasip1

package penstock

import (
	"fmt"
	"os"
)

// hostLog writes to stderr when the package runs outside Penstock, as in
// its own tests.
func hostLog(level Level, msg string) {
	fmt.Fprintf(os.Stderr, "penstock log %d: %s\n", level, msg)
}
