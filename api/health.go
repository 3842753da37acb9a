package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Pinger is what readiness needs of the database; *sqlx.DB and *sql.DB
// satisfy it.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// Healthz answers 200 while the process serves: liveness.
func Healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// Readyz returns a readiness handler: 200 when the database answers a ping
// within timeout, else 503 problem+json.
func Readyz(db Pinger, timeout time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			WriteProblem(c, NewProblem(http.StatusServiceUnavailable, "the database is not reachable"))
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	}
}
