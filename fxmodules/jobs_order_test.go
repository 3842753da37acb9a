package fxmodules_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// msgLog is a slog.Handler that records the msgLog it handles, in order.
type msgLog struct {
	mu   *sync.Mutex
	msgs *[]string
}

func newMsgLog() msgLog { return msgLog{mu: &sync.Mutex{}, msgs: new([]string)} }

func (m msgLog) Enabled(context.Context, slog.Level) bool { return true }
func (m msgLog) WithAttrs([]slog.Attr) slog.Handler       { return m }
func (m msgLog) WithGroup(string) slog.Handler            { return m }
func (m msgLog) Handle(_ context.Context, r slog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	*m.msgs = append(*m.msgs, r.Message)
	return nil
}

func (m msgLog) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(*m.msgs)
}

// TestJobsHooksAroundServer checks that, however the application composes
// Framework and Jobs, River's schema is migrated and the jobs start before
// the HTTP server listens, and the jobs stop after it has shut down.
func TestJobsHooksAroundServer(t *testing.T) {
	cases := map[string]func(framework, jobsOpt fx.Option) fx.Option{
		"framework then jobs": func(f, j fx.Option) fx.Option { return fx.Options(f, j) },
		"jobs then framework": func(f, j fx.Option) fx.Option { return fx.Options(j, f) },
	}
	for name, compose := range cases {
		for _, appEngine := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "", true: " app engine"}[appEngine], func(t *testing.T) {
				cfg := testConfig(testdb.New(t, db.SQLite))
				cfg.MigrateOnStart = true
				cfg.HTTPAddr = "127.0.0.1:0"
				rec := newMsgLog()
				var opts []fxmodules.Option
				var provide fx.Option = fx.Options()
				if appEngine {
					opts = append(opts, fxmodules.WithAppEngine())
					provide = fx.Provide(gin.New)
				}
				app := fx.New(
					compose(fxmodules.Framework(jobsMigrations(), opts...), fxmodules.Jobs(effectWorker(nil))),
					provide,
					fx.Replace(cfg),
					fx.NopLogger,
					fx.Decorate(func() *slog.Logger { return slog.New(rec) }),
				)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := app.Start(ctx); err != nil {
					t.Fatal(err)
				}
				if err := app.Stop(ctx); err != nil {
					t.Fatal(err)
				}
				got := rec.list()
				at := func(msg string) int {
					i := slices.Index(got, msg)
					if i < 0 {
						t.Fatalf("no %q logged in %q", msg, got)
					}
					return i
				}
				listening := at("http server listening")
				if at("job queue migrations applied") > listening || at("jobs started") > listening {
					t.Errorf("the server listened before the jobs' schema was migrated and the jobs started: %q", got)
				}
				if at("jobs stopped") < at("http server shut down") {
					t.Errorf("the jobs stopped before the server shut down: %q", got)
				}
			})
		}
	}
}
