// Package fxmodules holds FastTrack's Fx modules — Config, Logging, Database,
// Migrations, HTTP and the request scope — and Framework, which bundles them.
// Each is an fx.Option that an application plugs into its own fx.New.
package fxmodules
