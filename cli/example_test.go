package cli_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/fasttrack-go/fasttrack/cli"
	"github.com/fasttrack-go/fasttrack/config"
	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

// Notes is a repository: one per scope, on the scope's transaction.
type Notes struct{ q db.Querier }

// NewNotes builds the repository on the scope's querier.
func NewNotes(q db.Querier) *Notes { return &Notes{q: q} }

// Add inserts a note.
func (n *Notes) Add(ctx context.Context, body string) error {
	_, err := n.q.ExecContext(ctx, n.q.Rebind("INSERT INTO notes (body) VALUES (?)"), body)
	return err
}

// Count counts the notes.
func (n *Notes) Count(ctx context.Context) (c int, err error) {
	err = n.q.GetContext(ctx, &c, "SELECT COUNT(*) FROM notes")
	return c, err
}

// Example gives an application its command line, with two commands of its
// own: each runs in a scope whose transaction commits when it returns nil.
func Example() {
	dir, err := os.MkdirTemp("", "cli-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := config.Default() // in a real app, the environment (fxmodules.Config)
	cfg.DatabaseURL = "sqlite:" + filepath.Join(dir, "app.db")
	cfg.LogLevel = slog.LevelError
	migrations := fstest.MapFS{"sqlite/00001_notes.sql": {Data: []byte(
		"-- +goose Up\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n-- +goose Down\nDROP TABLE notes;\n")}}

	app := cli.App{
		Name:       "notes",
		Options:    fx.Options(fxmodules.Framework(migrations), fx.Replace(cfg), fxmodules.Scoped(NewNotes)),
		Migrations: migrations,
		Commands: []*cli.Cmd{
			cli.Command("add", "Add a note per argument", func(ctx context.Context, args cli.Args, notes *Notes) error {
				for _, body := range args {
					if err := notes.Add(ctx, body); err != nil {
						return err // rolls back the notes added before
					}
				}
				return nil
			}),
			cli.Command("count", "Print the number of notes", func(ctx context.Context, cmd *cobra.Command, notes *Notes) error {
				n, err := notes.Count(ctx)
				fmt.Fprintln(cmd.OutOrStdout(), n, "notes")
				return err
			}),
		},
	}
	// A main would call cli.Main(app); here each command line runs in turn.
	for _, args := range [][]string{{"add", "milk", "eggs"}, {"count"}} {
		root := cli.New(app)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			fmt.Println("error:", err)
		}
	}
	// Output: 2 notes
}
