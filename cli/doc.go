// Package cli gives an Fx application built on FastTrack's modules its
// command line: one call, New, returns a cobra root command with
//
//	serve                              migrate when MIGRATE_ON_START, then serve HTTP (the default command)
//	migrate up|down|status|redo        apply, roll back, list or re-apply migrations
//	migrate to VERSION                 migrate up or down to VERSION (0: roll back every one)
//	migrate create NAME                write the next SQL migration, one file per dialect folder
//	seed [NAME...]                     run the seeders registered with seed.Provide, in one transaction
//	routes                             list the HTTP routes, their handlers and transaction policies
//	graph [--format dot|svg]           draw the dependency graph: singletons, scoped and transient types
//	jobs list|retry ID|cancel ID       list, retry or cancel background jobs (with fxmodules.Jobs)
//	version                            print the build's version
//
// and the application's own commands, made by Command: a function whose
// parameters are resolved like a handler's (scoped, transient and singleton
// values), run in a scope of its own whose transaction commits when the
// function returns nil and rolls back otherwise.
//
//	func main() {
//		cli.Main(cli.App{
//			Name:       "shop",
//			Options:    fx.Options(fxmodules.Framework(migrations.FS), orders.Module()),
//			Migrations: migrations.FS,
//			Commands:   []*cli.Cmd{cli.Command("close-day", "Close the day's orders", orders.CloseDay)},
//		})
//	}
//
// Commands other than serve never listen. migrate, jobs, routes and graph
// build the application without starting it (migrate and jobs then connect
// with the application's configuration, pool and logger, and work no job;
// routes and graph do not connect). seed and the application's commands start it without its HTTP
// server — database ping, migrations when MIGRATE_ON_START, the request
// scope's checks — run, and stop it, within START_TIMEOUT and STOP_TIMEOUT;
// their jobs client enqueues but works no queue (fxmodules.JobsInsertOnly).
// Only serve works jobs.
package cli
