package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
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

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"plain", []string{"version"}, false},
		{"extra argument", []string{"version", "extra"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCLI(t, context.Background(), tc.args...)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("app %v: no error, printed %q", tc.args, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("app %v: %v", tc.args, err)
			}
			t.Logf("version printed %q", out)
			if !strings.HasPrefix(out, "fasttrack ") {
				t.Errorf("version printed %q, want a line starting with \"fasttrack \"", out)
			}
			if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
				t.Errorf("version printed %q, want exactly one line", out)
			}
			if line := strings.TrimSuffix(out, "\n"); !strings.HasSuffix(line, " "+runtime.Version()) {
				t.Errorf("version printed %q, want it to end with the Go version %s", out, runtime.Version())
			}
		})
	}
}

// TestBadConfigurationIsReportedWithoutThePassword runs commands that need
// the configuration with an invalid or unreachable DATABASE_URL: each fails,
// names the problem, and never shows the password, neither in its error nor
// on stdout or stderr.
func TestBadConfigurationIsReportedWithoutThePassword(t *testing.T) {
	const secret = "hunter2"
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		wantIn []string // substrings of the error
	}{
		{
			name:   "migrate status, unsupported scheme",
			env:    map[string]string{"DATABASE_URL": "redis://u:" + secret + "@h"},
			args:   []string{"migrate", "status"},
			wantIn: []string{"DATABASE_URL", "redis://u:xxxxx@h"},
		},
		{
			name:   "migrate up, unsupported scheme",
			env:    map[string]string{"DATABASE_URL": "redis://u:" + secret + "@h"},
			args:   []string{"migrate", "up"},
			wantIn: []string{"DATABASE_URL", "redis://u:xxxxx@h"},
		},
		{
			name:   "migrate down, unsupported scheme",
			env:    map[string]string{"DATABASE_URL": "redis://u:" + secret + "@h"},
			args:   []string{"migrate", "down"},
			wantIn: []string{"DATABASE_URL", "redis://u:xxxxx@h"},
		},
		{
			name:   "serve, unsupported scheme",
			env:    map[string]string{"DATABASE_URL": "redis://u:" + secret + "@h"},
			args:   []string{"serve"},
			wantIn: []string{"DATABASE_URL", "redis://u:xxxxx@h"},
		},
		{
			name:   "default command, unsupported scheme",
			env:    map[string]string{"DATABASE_URL": "redis://u:" + secret + "@h"},
			args:   []string{},
			wantIn: []string{"DATABASE_URL", "redis://u:xxxxx@h"},
		},
		{
			name: "migrate status, two bad variables",
			env: map[string]string{
				"DATABASE_URL":      "redis://u:" + secret + "@h",
				"DB_MAX_OPEN_CONNS": "-3",
			},
			args:   []string{"migrate", "status"},
			wantIn: []string{"DATABASE_URL", "DB_MAX_OPEN_CONNS", "-3"},
		},
		{
			name:   "migrate status, unreachable server",
			env:    map[string]string{"DATABASE_URL": "postgres://u:" + secret + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=2"},
			args:   []string{"migrate", "status"},
			wantIn: []string{"postgres://u:xxxxx@127.0.0.1:1/app"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LOG_LEVEL", "error")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			stderr := captureStderr(t)
			out, err := runCLI(t, context.Background(), tc.args...)
			if err == nil {
				t.Fatalf("app %v: no error, printed %q", tc.args, out)
			}
			msg := err.Error()
			for _, want := range tc.wantIn {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error shows the password: %q", msg)
			}
			if strings.Contains(out, secret) {
				t.Errorf("stdout shows the password: %q", out)
			}
			if s := stderr(); strings.Contains(s, secret) {
				t.Errorf("stderr shows the password:\n%s", s)
			}
		})
	}
}
