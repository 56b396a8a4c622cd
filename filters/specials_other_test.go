//go:build !amd64 || purego

package filters

// specialsVariants are the versions of fillSpecials this CPU can run, for
// checkReader to compare with the definition.
func specialsVariants() map[string]func(dst []uint64, src []byte) {
	return map[string]func(dst []uint64, src []byte){"specialsGo": specialsGo}
}

// scanFastVariants are the versions of scanFast this CPU can run, for
// checkReader to compare with scanFastGo.
var scanFastVariants = func() []scanVariant {
	return []scanVariant{{"scanFastGo", scanFastGo}}
}()
