package testdb

// TB is the part of testing.TB that throwaway databases need; *testing.T
// and *testing.B satisfy it, and so can a program that is not a test.
type TB interface {
	Helper()
	Cleanup(func())
	TempDir() string
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}
