//go:build !unix

package localfn

import (
	"os"
	"syscall"
)

// sysProcAttr returns nil: without process groups, only the process itself
// is stopped.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p; there is no gentler way to stop it here.
func killGroup(p *os.Process, kill bool) {
	p.Kill()
}
