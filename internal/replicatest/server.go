package replicatest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/dburl"
)

// modulePath is the module whose root holds .ci/pg-replica.
const modulePath = "github.com/fasttrack-go/fasttrack"

// StopReplica crashes the replica (an immediate shutdown: no checkpoint, as
// after a power cut) and returns once it is down. When the test ends the
// replica is started again, unless it already answers (StartReplica).
func StopReplica(tb testing.TB) {
	tb.Helper()
	_, replica := URLs(tb)
	if err := script("stop-replica"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if ping(replica) == nil {
			return
		}
		if err := start(replica); err != nil {
			tb.Error(err)
		}
	})
}

// StartReplica starts the replica stopped by StopReplica and returns once it
// accepts connections; it may not have caught up with the primary yet
// (WaitReplayed waits for that). A replica that runs is left as it is.
func StartReplica(tb testing.TB) {
	tb.Helper()
	_, replica := URLs(tb)
	if err := start(replica); err != nil {
		tb.Fatal(err)
	}
}

// start starts the replica at replicaURL and waits until it answers.
func start(replicaURL string) error {
	if err := script("start-replica"); err != nil {
		return err
	}
	if err := poll(func() error { return ping(replicaURL) }); err != nil {
		return fmt.Errorf("replicatest: the replica at %s does not answer after start-replica: %w",
			dburl.Redact(replicaURL), err)
	}
	return nil
}

// ping connects to url and runs a query.
func ping(url string) error {
	var one int
	return queryRow(url, "SELECT 1", nil, &one)
}

// script runs `bash .ci/pg-replica <command>` on the pair named by
// TEST_REPLICA_DIR.
func script(command string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, ".ci", "pg-replica"), command)
	cmd.Dir = root
	cmd.Env = os.Environ()
	if dir := os.Getenv(DirEnv); dir != "" {
		cmd.Env = append(cmd.Env, "PG_REPLICA_DIR="+dir)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("replicatest: bash .ci/pg-replica %s: %w\n%s", command, err, out)
	}
	return nil
}

// moduleRoot returns the directory holding the go.mod of modulePath: the
// working directory of the test or one of its parents.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("replicatest: %w", err)
	}
	for {
		path, err := goModPath(filepath.Join(dir, "go.mod"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if path == modulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("replicatest: no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// goModPath returns the module path declared by the go.mod file at name.
func goModPath(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("replicatest: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("replicatest: reading %s: %w", name, err)
	}
	return "", nil
}
