//go:build unix && !linux

package interop

import "syscall"

// dieWithParent does nothing where the kernel offers no parent-death
// signal; the test's cleanup still kills the server.
func dieWithParent(*syscall.SysProcAttr) {}
