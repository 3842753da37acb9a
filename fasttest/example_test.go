package fasttest_test

import (
	"fmt"
	"net/http"
	"os"

	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/fasttest"
)

// demoTB stands in for the *testing.T a test would pass: it fails by
// panicking, and runs the cleanups on Close.
type demoTB struct{ cleanups []func() }

func (d *demoTB) Helper()                           {}
func (d *demoTB) Cleanup(f func())                  { d.cleanups = append(d.cleanups, f) }
func (d *demoTB) Logf(string, ...any)               {}
func (d *demoTB) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (d *demoTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (d *demoTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (d *demoTB) Skipf(format string, args ...any)  { panic(fmt.Sprintf(format, args...)) }
func (d *demoTB) FailNow()                          { panic("failed") }
func (d *demoTB) TempDir() string {
	dir, err := os.MkdirTemp("", "fasttest-example")
	if err != nil {
		panic(err)
	}
	d.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (d *demoTB) Close() {
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		d.cleanups[i]()
	}
}

// In a test, pass the test's *testing.T: the app stops and its database is
// dropped when the test ends.
func ExampleStart() {
	t := &demoTB{} // in a test: t *testing.T
	defer t.Close()

	app := fasttest.Start(t, migrations.FS, users.Module())
	created := app.Do(t, http.MethodPost, "/users", map[string]any{"name": "Ada", "email": "ada@example.com"})
	fmt.Println(created.Status, created.JSON(t)["name"])

	list := app.Do(t, http.MethodGet, "/users", nil)
	fmt.Println(list.Status, list.JSON(t)["total"])
	// Output:
	// 201 Ada
	// 200 1
}
