// Command testapp is the reference service of cmd/app (the framework, its
// migrations and the users feature), started and stopped as `app serve`
// does, plus one route for the end-to-end tests:
//
//	POST /slow-users?ms=N
//
// creates a user from the JSON body (as POST /users takes it) through the
// request's users.Repository, then sleeps N milliseconds before answering
// 201, still inside the request's transaction. The sleep ends early when the
// request's context does, and the handler then fails. The end-to-end tests
// use it to have requests in flight while the process is told to stop or
// the database goes away.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/fasttrack-go/fasttrack/api"
	"github.com/fasttrack-go/fasttrack/cmd/app/migrations"
	"github.com/fasttrack-go/fasttrack/cmd/app/users"
	"github.com/fasttrack-go/fasttrack/fxmodules"
	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		stop()
		os.Exit(1)
	}
}

// serve is cmd/app's serve, with the slow route.
func serve(ctx context.Context) error {
	return fxmodules.Run(ctx,
		fxmodules.Framework(migrations.FS),
		users.Module(),
		fx.Invoke(func(e *gin.Engine) {
			e.POST("/slow-users", api.Handle(slowCreate))
		}),
	)
}

// slowCreate inserts the user, then waits ?ms= milliseconds before
// answering 201.
func slowCreate(c *gin.Context, r *users.Repository) (*users.User, error) {
	ms, err := strconv.Atoi(c.DefaultQuery("ms", "0"))
	if err != nil || ms < 0 {
		return nil, api.NewError(http.StatusBadRequest, "ms must be a non-negative integer")
	}
	var in users.CreateInput
	if err := api.BindJSON(c, &in); err != nil {
		return nil, err
	}
	u := &users.User{Name: in.Name, Email: in.Email, IsActive: in.IsActive == nil || *in.IsActive}
	ctx := c.Request.Context()
	if err := r.Create(ctx, u); err != nil {
		return nil, err
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.Header("Location", fmt.Sprintf("/users/%d", u.ID))
	c.Status(http.StatusCreated)
	return u, nil
}
