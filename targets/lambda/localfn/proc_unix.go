//go:build unix

package localfn

import (
	"os"
	"syscall"
)

// sysProcAttr puts the process in a process group of its own, so that a
// signal to the group reaches what it starts too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup sends SIGTERM, or SIGKILL if kill, to p's process group.
func killGroup(p *os.Process, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	syscall.Kill(-p.Pid, sig)
}
