package interop

import "syscall"

// dieWithParent has the kernel kill the server if the test binary dies
// without running its cleanups (a test timeout, a crash).
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
