package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// ProblemContentType is the media type of RFC 9457 problem details.
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem details body. It never carries SQL or driver
// text: Detail is written for the client.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors lists invalid fields, for validation failures.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// NewProblem returns a Problem of the given status with its standard title.
func NewProblem(status int, detail string) Problem {
	return Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// WriteProblem aborts the request and answers p as application/problem+json.
func WriteProblem(c *gin.Context, p Problem) {
	c.Header("Content-Type", ProblemContentType)
	c.AbortWithStatusJSON(p.Status, p)
}

// NotFound answers 404 problem+json; the HTTP module installs it for
// unknown paths.
func NotFound(c *gin.Context) {
	WriteProblem(c, NewProblem(http.StatusNotFound, "no such route"))
}

// MethodNotAllowed answers 405 problem+json; the HTTP module installs it for
// known paths asked with another method.
func MethodNotAllowed(c *gin.Context) {
	WriteProblem(c, NewProblem(http.StatusMethodNotAllowed, "method not allowed on this route"))
}
