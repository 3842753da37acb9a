package fxmodules

import (
	"log/slog"
	"os"

	"github.com/fasttrack-go/fasttrack/config"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
)

// Logging provides the application's *slog.Logger (text or JSON on stderr, at
// the configured level) and routes Fx's own events to it, at debug level
// except errors. An application that has a logger of its own leaves Logging
// out (Framework does with WithAppLogger); to keep Logging but send its
// logs elsewhere, decorate the logger with fx.Decorate.
func Logging() fx.Option {
	return fx.Options(
		fx.Module("logging", fx.Provide(newLogger)),
		fx.WithLogger(newFxLogger),
	)
}

func newLogger(cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func newFxLogger(l *slog.Logger) fxevent.Logger {
	fl := &fxevent.SlogLogger{Logger: l.With("component", "fx")}
	fl.UseLogLevel(slog.LevelDebug)
	return fl
}
