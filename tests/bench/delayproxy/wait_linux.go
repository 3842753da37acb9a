package delayproxy

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// The clock and flags of timerfd_create (linux/time.h, linux/timerfd.h).
const (
	clockMonotonic = 1
	tfdCloexec     = syscall.O_CLOEXEC
	tfdNonblock    = syscall.O_NONBLOCK
)

// timerfdWaiter waits on a Linux timerfd, which Go's network poller
// watches like a socket: the poller wakes when it expires, within
// microseconds, where a runtime timer may wait for the poller's next whole
// millisecond (see the package doc). close closes the timerfd, which fails
// the read under way.
type timerfdWaiter struct {
	f   *os.File
	rc  syscall.RawConn
	buf [8]byte
}

// newWaiter returns a timerfd waiter, or a runtime timer's when the
// kernel refuses a timerfd.
func newWaiter() waiter {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdCloexec|tfdNonblock, 0)
	if errno != 0 {
		return newTimerWaiter()
	}
	f := os.NewFile(fd, "timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return newTimerWaiter()
	}
	return &timerfdWaiter{f: f, rc: rc}
}

// itimerspec is struct itimerspec: no interval, the first expiry.
type itimerspec struct {
	interval syscall.Timespec
	value    syscall.Timespec
}

func (w *timerfdWaiter) wait(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	spec := itimerspec{value: syscall.NsecToTimespec(d.Nanoseconds())}
	var errno syscall.Errno
	if err := w.rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return fmt.Errorf("delayproxy: timerfd_settime: %w", errno)
	}
	_, err := w.f.Read(w.buf[:])
	return err
}

func (w *timerfdWaiter) close() { _ = w.f.Close() }
