package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/cli"
)

// runCLI runs the reference app's command tree in-process with args and
// returns what it printed on its standard output and the error it returned.
func runCLI(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	return runApp(t, ctx, app(), args...)
}

// runApp runs a's command tree in-process with args.
func runApp(t *testing.T, ctx context.Context, a cli.App, args ...string) (string, error) {
	t.Helper()
	root := cli.New(a)
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(ctx)
	if errOut.Len() > 0 {
		t.Logf("app %s: stderr: %s", strings.Join(args, " "), errOut.String())
	}
	return out.String(), err
}

// captureStderr sends os.Stderr to a file until the test ends, and returns a
// function reading what was written so far. Loggers built from os.Stderr
// while it is captured write there.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = f
	t.Cleanup(func() {
		os.Stderr = old
		f.Close()
	})
	return func() string {
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// TestVersion: the reference app's version names the framework's module
// (cli.TestVersion covers the line's shape and its arguments).
func TestVersion(t *testing.T) {
	out, err := runCLI(t, context.Background(), "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "fasttrack ") || strings.Count(out, "\n") != 1 {
		t.Errorf("version printed %q, want one line starting with \"fasttrack \"", out)
	}
}

// TestBadConfigurationIsReportedWithoutThePassword runs each command that
// needs the configuration with an invalid or unreachable DATABASE_URL: each
// fails, names the problem, and never shows the password, neither in its
// error nor on stdout or stderr. A seeder name is checked before the
// database is tried.
func TestBadConfigurationIsReportedWithoutThePassword(t *testing.T) {
	const secret = "hunter2"
	var (
		badScheme   = map[string]string{"DATABASE_URL": "redis://u:" + secret + "@h"}
		unreachable = map[string]string{"DATABASE_URL": "postgres://u:" + secret + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=2"}
		schemeErr   = []string{"DATABASE_URL", "redis://u:xxxxx@h"}
	)
	type tc struct {
		why    string // what is wrong
		env    map[string]string
		args   []string
		wantIn []string // substrings of the error
	}
	cases := []tc{
		{"bad scheme", badScheme, []string{}, schemeErr}, // the default command: serve
		{"two bad variables", map[string]string{"DATABASE_URL": badScheme["DATABASE_URL"], "DB_MAX_OPEN_CONNS": "-3"},
			[]string{"migrate", "status"}, []string{"DATABASE_URL", "DB_MAX_OPEN_CONNS", "-3"}},
		{"unreachable", unreachable, []string{"migrate", "status"}, []string{"postgres://u:xxxxx@127.0.0.1:1/app"}},
		{"unreachable", unreachable, []string{"seed"}, []string{"postgres://u:xxxxx@127.0.0.1:1/app"}},
		{"unreachable", unreachable, []string{"seed", "nope"}, []string{`unknown seeder "nope"`}},
	}
	for _, args := range [][]string{{"migrate", "status"}, {"migrate", "up"}, {"migrate", "down"}, {"serve"},
		{"seed"}, {"seed", "users"}, {"routes"}, {"graph"}} {
		cases = append(cases, tc{"bad scheme", badScheme, args, schemeErr})
	}
	for _, tc := range cases {
		t.Run(strings.Join(append([]string{"app"}, tc.args...), " ")+", "+tc.why, func(t *testing.T) {
			t.Setenv("LOG_LEVEL", "error")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			stderr := captureStderr(t)
			out, err := runCLI(t, context.Background(), tc.args...)
			if err == nil {
				t.Fatalf("app %v: no error, printed %q", tc.args, out)
			}
			for _, want := range tc.wantIn {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			for name, text := range map[string]string{"error": err.Error(), "stdout": out, "stderr": stderr()} {
				if strings.Contains(text, secret) {
					t.Errorf("the %s shows the password: %s", name, text)
				}
			}
		})
	}
}
