// Package e2e tests the built binaries from the outside: cmd/app (the
// reference service) and tests/e2e/testapp (the same service plus a slow
// route), started as processes on SQLite files and on fresh PostgreSQL and
// MySQL databases (TEST_POSTGRES_URL, TEST_MYSQL_URL), killed, stopped,
// and cut off from their database.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The binaries TestMain builds, without the race detector.
var (
	appBin     string // ./cmd/app
	testappBin string // ./tests/e2e/testapp
)

const modulePath = "github.com/fasttrack-go/fasttrack"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "fasttrack-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	appBin = filepath.Join(dir, "app")
	testappBin = filepath.Join(dir, "testapp")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, b := range []struct{ out, pkg string }{{appBin, "./cmd/app"}, {testappBin, "./tests/e2e/testapp"}} {
		wg.Go(func() { errs[i] = build(root, b.out, b.pkg) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// build runs `go build -o out pkg` in the repository root.
func build(root, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s %s: %v\n%s", out, pkg, err, buf.String())
	}
	return nil
}

// repoRoot returns the folder of the main module's go.mod, looking up from
// the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && firstLine(b) == "module "+modulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

func firstLine(b []byte) string {
	for line := range strings.SplitSeq(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "//") {
			return line
		}
	}
	return ""
}
