package redistest

import "syscall"

// sysProcAttr puts the server in its own process group (so that cleanup can
// kill everything it spawned) and has the kernel kill it if the test binary
// dies without running cleanups (e.g. on a test timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killProcessGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// signalProcessGroup sends sig to the server's process group.
func signalProcessGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
