package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// BodyLimit caps request bodies at n bytes: reading past it fails with
// *http.MaxBytesError, which ProblemFor answers 413. A request that declares
// a larger Content-Length is answered 413 at once.
func BodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > n {
			WriteProblem(c, NewProblem(http.StatusRequestEntityTooLarge, "the request body is too large"))
			return
		}
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		}
	}
}
