package fasttest

// TB is the part of testing.TB the kit uses. *testing.T and *testing.B
// satisfy it; so can a program that wants a throwaway app outside go test
// (see the package example).
type TB interface {
	Helper()
	Cleanup(func())
	TempDir() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	FailNow()
}
