// Package bench holds the framework's comparative benchmarks, in a module of
// its own so that the containers it compares against (dig, samber/do,
// sarulabs/di) stay out of the main module.
//
// bench_scope_test.go times one request-scope cycle (open a scope, resolve a
// repository built on the lazy transaction, release) in FastTrack, dig,
// samber/do v2, sarulabs/di v2 and by hand, and reports the heap each cycle
// leaves behind after a GC (retained-B/op). bench_http_test.go times whole
// requests through gin and httptest on an SQLite file, FastTrack against
// hand-written handlers.
//
// Run, from this folder:
//
//	go test -run '^$' -bench . -benchmem -count 5 .
package bench
