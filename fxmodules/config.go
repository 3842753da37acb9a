package fxmodules

import (
	"github.com/fasttrack-go/fasttrack/config"
	"go.uber.org/fx"
)

// Config provides config.Config, loaded from the environment by config.Load.
// An invalid variable fails the start with an error naming it. To use a
// Config built in code instead (tests, embedding apps), add
// fx.Replace(cfg) to the application.
//
// Config also applies the configuration's StartTimeout (START_TIMEOUT) and
// StopTimeout (STOP_TIMEOUT) to the application's start and stop, however
// the application is run: fxmodules.Run, fx.App.Run, fxtest, or
// fx.App.Start and Stop with a context of the caller's (the earlier of the
// two deadlines wins). See Run for the details. Give Config to fx.New
// directly, not inside an fx.Module: Fx accepts fx.StartTimeout and
// fx.StopTimeout, which Config sets, only there. Config decorates
// fx.Lifecycle, so nothing else may decorate it at the top level; an
// fx.StartTimeout or fx.StopTimeout placed after Config in fx.New replaces
// Config's and bounds fx.App.Run and fxtest as well.
func Config() fx.Option {
	return fx.Options(
		fx.Module("config", fx.Provide(config.Load)),
		timeouts(),
	)
}
