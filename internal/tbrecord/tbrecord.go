// Package tbrecord holds a test's *testing.T whose Errorf is recorded
// instead of failing the test: it shows whether, and how, code that reports
// to a user's test (fasttest's N+1 reports) would fail it.
package tbrecord

import (
	"fmt"
	"sync"
	"testing"
)

// TB is t with Errorf recorded; every other method is t's. It is safe for
// concurrent use.
type TB struct {
	*testing.T
	mu     sync.Mutex
	errors []string
}

// New returns t with its Errorf recorded.
func New(t *testing.T) *TB { return &TB{T: t} }

// Errorf records the formatted message; the test does not fail.
func (r *TB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// Take returns the messages recorded since the last Take (nil when none),
// and forgets them.
func (r *TB) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.errors
	r.errors = nil
	return out
}
