package replicatest

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// locked holds the names of the top-level tests of this process that hold
// the pair's lock: a flock is per open file, so a second one in the same
// test, or in one of its subtests, would wait for itself.
var locked sync.Map

// lockPair takes an exclusive lock on the replication pair for the rest
// of tb, released at its cleanup: go test runs packages in parallel
// processes, and a test that pauses replay or stops the replica must not
// change the pair under another package's test. The lock is a flock on a
// file in TEST_REPLICA_DIR (or the temporary directory).
func lockPair(tb testing.TB) {
	tb.Helper()
	root, _, _ := strings.Cut(tb.Name(), "/")
	if _, held := locked.LoadOrStore(root, true); held {
		return // the test, or the test of this subtest, holds it already
	}
	tb.Cleanup(func() { locked.Delete(root) })
	dir := os.Getenv(DirEnv)
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.OpenFile(filepath.Join(dir, "test.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		tb.Fatalf("replicatest: lock the pair: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		tb.Fatalf("replicatest: lock the pair: %v", err)
	}
	tb.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}
