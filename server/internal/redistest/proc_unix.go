//go:build unix && !linux

package redistest

import "syscall"

// sysProcAttr puts the server in its own process group, so that cleanup can
// kill everything it spawned.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killProcessGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// signalProcessGroup sends sig to the server's process group.
func signalProcessGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
