package cli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/fxmodules"
	"go.uber.org/fx"
	"go.uber.org/goleak"
)

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string
		args    []string
		prefix  string
		wantErr bool
	}{
		{"from the build", "", []string{"version"}, "fasttrack (devel)", false},
		{"given", "1.2.3", []string{"version"}, "fasttrack 1.2.3", false},
		{"extra argument", "", []string{"version", "extra"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testApp()
			a.Version = tc.version
			out, err := run(t, context.Background(), a, tc.args...)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("%v: no error, printed %q", tc.args, out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out, tc.prefix) || !strings.HasSuffix(out, " "+runtime.Version()+"\n") || strings.Count(out, "\n") != 1 {
				t.Errorf("version printed %q, want one line from %q to the Go version", out, tc.prefix)
			}
		})
	}
}

// TestSeedCommand runs the test application's seeder, refuses an unknown
// name, and starts the application without listening: its HTTP address is
// taken meanwhile.
func TestSeedCommand(t *testing.T) {
	url, _ := sqliteEnv(t)
	ln, err := net.Listen("tcp", os.Getenv("HTTP_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if out, err := run(t, context.Background(), testApp(), "seed"); err != nil || out != "seeded items\n" {
		t.Fatalf("seed: %q, %v", out, err)
	}
	if got := itemNames(t, url); !slices.Equal(got, []string{"seeded"}) {
		t.Errorf("items %q", got)
	}
	_, err = run(t, context.Background(), testApp(), "seed", "nope")
	wantErr(t, err, `unknown seeder "nope" (known: items)`)

	a := testApp()
	a.Options = fx.Options(fxmodules.Framework(testMigrations()))
	if out, err := run(t, context.Background(), a, "seed"); err != nil || out != "no seeders registered\n" {
		t.Errorf("seed without seeders: %q, %v", out, err)
	}
}

// TestServe serves the test application until its context ends, as the
// serve command and as the default command, and leaves no goroutine.
func TestServe(t *testing.T) {
	for _, args := range [][]string{{"serve"}, {}} {
		t.Run(strings.Join(append([]string{"args"}, args...), " "), func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			sqliteEnv(t)
			addr := os.Getenv("HTTP_ADDR")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			served := make(chan error, 1)
			go func() {
				_, err := run(t, ctx, testApp(), args...)
				served <- err
			}()
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			deadline := time.Now().Add(30 * time.Second)
			for {
				resp, err := client.Get("http://" + addr + "/hello")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("/hello answered %d", resp.StatusCode)
					}
					break
				}
				select {
				case err := <-served:
					t.Fatalf("serve returned before answering: %v", err)
				case <-time.After(10 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("no answer from %s: %v", addr, err)
				}
			}
			cancel()
			if err := <-served; err != nil {
				t.Fatalf("serve returned %v after its context ended, want nil", err)
			}
		})
	}
}

// TestMain runs Main in a child process when CLI_TEST_MAIN holds the
// arguments to give it.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("CLI_TEST_MAIN"); ok {
		os.Args = append([]string{"testapp"}, strings.Fields(args)...)
		Main(testApp())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMainExitStatus: Main prints what a command prints, and on error
// prints "error: …" on stderr and exits with status 1.
func TestMainExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args       string
		wantStatus int
		wantOut    string
		wantErr    string
	}{
		{"version", 0, "fasttrack ", ""},
		{"nope", 1, "", `error: unknown command "nope"`},
	} {
		t.Run(tc.args, func(t *testing.T) {
			c := exec.Command(os.Args[0])
			c.Env = append(os.Environ(), "CLI_TEST_MAIN="+tc.args)
			var stdout, stderr strings.Builder
			c.Stdout, c.Stderr = &stdout, &stderr
			err := c.Run()
			status := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				status = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tc.wantStatus || !strings.HasPrefix(stdout.String(), tc.wantOut) || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("status %d, stdout %q, stderr %q; want %d, %q, %q", status, stdout.String(), stderr.String(), tc.wantStatus, tc.wantOut, tc.wantErr)
			}
		})
	}
}
