//go:build !amd64 || purego

package filters

// scanFast is scanFastGo (see scan).
func scanFast(sc *scanner) { scanFastGo(sc) }
