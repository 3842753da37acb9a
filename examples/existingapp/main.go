// Command existingapp shows FastTrack plugged into an Fx application that
// already exists: the app keeps its own modules (a clock, its JSON logger and
// its Gin engine), and adds fxmodules.Framework, told to use the app's
// logger and engine, plus one feature whose repository is request-scoped.
// cli.Main gives it FastTrack's command line, with a command of its own.
//
//	go run ./examples/existingapp                 # serves on :8080 with an SQLite file
//	curl -X POST localhost:8080/notes -d '{"body":"hello"}' -H 'Content-Type: application/json'
//	go run ./examples/existingapp add-note hi     # adds a note, in a transaction
//	go run ./examples/existingapp routes          # lists the routes; see --help for the rest
package main

import (
	"github.com/fasttrack-go/fasttrack/cli"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"go.uber.org/fx"
)

func main() { cli.Main(app()) }

// app is the command line: FastTrack's commands over the whole application
// (the app's own modules, and Framework told to use the app's logger and
// engine), and add-note.
func app() cli.App {
	return cli.App{
		Name:          "existingapp",
		Options:       fx.Options(fxmodules.Framework(migrations(), fxmodules.WithAppLogger(), fxmodules.WithAppEngine()), existing(), features()),
		Migrations:    migrations(),
		MigrationsDir: "examples/existingapp/migrations",
		Commands:      []*cli.Cmd{cli.Command("add-note", "Add a note per argument", addNotes)},
	}
}
