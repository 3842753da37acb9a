package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/spf13/cobra"
)

// addItems adds an item per argument through the scoped repository, in the
// command's transaction, and prints what it resolved; the argument "fail"
// fails the command after the items before it were written.
func addItems(ctx context.Context, args Args, it *items, g *greeting, s *stamp, q db.Querier, cmd *cobra.Command) error {
	if it.q != q {
		return fmt.Errorf("the repository's querier is not the command's transaction")
	}
	for _, name := range args {
		if name == "fail" {
			return errTest
		}
		if err := it.add(ctx, name); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s, stamp %d, %d items\n", g.text, s.n, len(args))
	return err
}

// TestCommand runs the application's own command: its dependencies
// (scoped, transient, singleton, the scope's querier, the arguments and the
// running command) are resolved, and its transaction commits when it
// returns nil and rolls back when it fails or panics.
func TestCommand(t *testing.T) {
	url, _ := sqliteEnv(t)
	a := testApp(
		Command("add-items", "Add items", addItems),
		Command("add-then-panic", "Add an item, then panic", func(ctx context.Context, it *items) error {
			if err := it.add(ctx, "panicked"); err != nil {
				return err
			}
			panic("boom")
		}),
	)
	for _, step := range []struct {
		name      string
		args      []string
		wantOut   string
		wantErr   string
		wantPanic bool
		want      []string // items afterwards
	}{
		{name: "commits", args: []string{"add-items", "a", "b"}, wantOut: "hello, stamp 1, 2 items\n", want: []string{"a", "b"}},
		{name: "an error rolls back", args: []string{"add-items", "c", "fail"}, wantErr: errTest.Error(), want: []string{"a", "b"}},
		{name: "a failed statement rolls back", args: []string{"add-items", "d", "a"}, wantErr: "UNIQUE", want: []string{"a", "b"}},
		{name: "a panic rolls back", args: []string{"add-then-panic"}, wantPanic: true, want: []string{"a", "b"}},
		{name: "no arguments", args: []string{"add-items"}, wantOut: "hello, stamp 1, 0 items\n", want: []string{"a", "b"}},
		{name: "a command without Args takes none", args: []string{"add-then-panic", "x"}, wantErr: "unknown command", want: []string{"a", "b"}},
	} {
		ok := t.Run(step.name, func(t *testing.T) {
			var (
				out      string
				err      error
				panicked any
			)
			func() {
				defer func() { panicked = recover() }()
				out, err = run(t, context.Background(), a, step.args...)
			}()
			if (panicked != nil) != step.wantPanic {
				t.Fatalf("panic %v, want a panic: %v", panicked, step.wantPanic)
			}
			if step.wantErr != "" {
				wantErr(t, err, step.wantErr)
			} else if err != nil && !step.wantPanic {
				t.Fatalf("%v: %v", step.args, err)
			}
			if out != step.wantOut {
				t.Errorf("printed %q, want %q", out, step.wantOut)
			}
			if got := itemNames(t, url); !slices.Equal(got, step.want) {
				t.Errorf("items %q, want %q", got, step.want)
			}
		})
		if !ok {
			t.Fatalf("step %q failed; later steps depend on it", step.name)
		}
	}
}

// missing is a type nothing provides.
type missing struct{}

// TestCommandMissingDependency: a parameter nothing provides fails the
// command before the application starts (the database is not opened),
// naming the command, its function and the parameter.
func TestCommandMissingDependency(t *testing.T) {
	_, path := sqliteEnv(t)
	ran := false
	a := testApp(Command("needs-missing", "Needs a missing type", func(ctx context.Context, it *items, m *missing, g *greeting) error {
		ran = true
		return nil
	}))
	_, err := run(t, context.Background(), a, "needs-missing")
	wantErr(t, err, `command "needs-missing"`, "TestCommandMissingDependency", "parameter 3 (*cli.missing)", "nothing provides it")
	if strings.Contains(err.Error(), "*cli.items") || strings.Contains(err.Error(), "*cli.greeting") {
		t.Errorf("the error names a provided type: %v", err)
	}
	if ran {
		t.Error("the command ran")
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("the database was opened")
	}
}

// TestCommandShape: a func of the wrong shape fails the command with an
// error naming it and the shape wanted.
func TestCommandShape(t *testing.T) {
	sqliteEnv(t)
	for _, tc := range []struct {
		name string
		fn   any
	}{
		{"nil", nil},
		{"not a func", 42},
		{"nil func", (func(context.Context) error)(nil)},
		{"no context", func(*items) error { return nil }},
		{"context not first", func(*items, context.Context) error { return nil }},
		{"no error", func(context.Context) {}},
		{"two results", func(context.Context) (int, error) { return 0, nil }},
		{"variadic", func(context.Context, ...int) error { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(t, context.Background(), testApp(Command("bad", "", tc.fn)), "bad")
			wantErr(t, err, `command "bad"`)
			if tc.fn != nil && !strings.Contains(err.Error(), "context.Context") {
				t.Errorf("error %q does not say the shape wanted", err)
			}
		})
	}
}

// TestCommandDoesNotListen: the application runs a command without its
// HTTP server listening.
func TestCommandDoesNotListen(t *testing.T) {
	sqliteEnv(t)
	addr := os.Getenv("HTTP_ADDR")
	var dialErr error
	a := testApp(Command("dial", "Dial the HTTP address", func(ctx context.Context, _ *items) error {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		dialErr = err
		return nil
	}))
	if _, err := run(t, context.Background(), a, "dial"); err != nil {
		t.Fatal(err)
	}
	if dialErr == nil {
		t.Fatalf("%s accepted a connection while the command ran", addr)
	}
}

// TestCommandCobra: the command's cobra.Command takes flags, which the
// function reads from the running command.
func TestCommandCobra(t *testing.T) {
	url, _ := sqliteEnv(t)
	c := Command("add-named", "Add the item --name", func(ctx context.Context, cmd *cobra.Command, it *items) error {
		name, err := cmd.Flags().GetString("name")
		if err != nil {
			return err
		}
		return it.add(ctx, name)
	})
	c.Cobra().Flags().String("name", "", "the item's name")
	if _, err := run(t, context.Background(), testApp(c), "add-named", "--name", "flagged"); err != nil {
		t.Fatal(err)
	}
	if got := itemNames(t, url); !slices.Equal(got, []string{"flagged"}) {
		t.Errorf("items %q", got)
	}
}
