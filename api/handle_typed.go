package api

import "github.com/gin-gonic/gin"

// Handle0 is [Handle] for a func of no dependencies, called directly rather
// than through reflection. The HandleN forms cost less per request than
// Handle; they take the same options and are checked at start the same way.
func Handle0[T any](fn func(*gin.Context) (T, error), opts ...Option) gin.HandlerFunc {
	return typedHandler(fn, func(c *gin.Context, _ []any) (any, error) { return fn(c) }, opts)
}

// Handle1 is [Handle] for a func of one dependency, called directly.
func Handle1[A, T any](fn func(*gin.Context, A) (T, error), opts ...Option) gin.HandlerFunc {
	return typedHandler(fn, func(c *gin.Context, d []any) (any, error) {
		return fn(c, dep[A](d, 0))
	}, opts)
}

// Handle2 is [Handle] for a func of two dependencies, called directly.
func Handle2[A, B, T any](fn func(*gin.Context, A, B) (T, error), opts ...Option) gin.HandlerFunc {
	return typedHandler(fn, func(c *gin.Context, d []any) (any, error) {
		return fn(c, dep[A](d, 0), dep[B](d, 1))
	}, opts)
}

// Handle3 is [Handle] for a func of three dependencies, called directly.
func Handle3[A, B, C, T any](fn func(*gin.Context, A, B, C) (T, error), opts ...Option) gin.HandlerFunc {
	return typedHandler(fn, func(c *gin.Context, d []any) (any, error) {
		return fn(c, dep[A](d, 0), dep[B](d, 1), dep[C](d, 2))
	}, opts)
}

// typedHandler is Handle(fn, opts...) calling fn through call. A nil fn
// keeps Handle's error.
func typedHandler(fn any, call func(*gin.Context, []any) (any, error), opts []Option) gin.HandlerFunc {
	h := newHandler(fn)
	if h.shapeErr == nil {
		h.typed = call
	}
	for _, o := range opts {
		o(&h.policy)
	}
	return h.serve
}

// dep returns deps[i] as an A; nil is A's zero value.
func dep[A any](deps []any, i int) A {
	a, _ := deps[i].(A)
	return a
}
