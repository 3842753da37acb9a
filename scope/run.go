package scope

import (
	"context"
	"fmt"
)

// Run opens a scope with context ctx, calls fn with it, ends the scope with
// commit = (fn returned nil) and releases it. If fn panics, Run ends the
// scope with commit = false, releases it and lets the panic continue. Run
// returns fn's error, else End's error (wrapped), else Release's error.
func (r *Registry) Run(ctx context.Context, fn func(s *Scope) error) error {
	s := r.Open(ctx)
	done := false
	defer func() {
		if !done { // fn panicked or called runtime.Goexit
			_ = s.End(false)
			_ = s.Release()
		}
	}()
	err := fn(s)
	done = true
	endErr := s.End(err == nil)
	relErr := s.Release()
	switch {
	case err != nil:
		return err
	case endErr != nil:
		return fmt.Errorf("scope: end: %w", endErr)
	}
	return relErr
}
