package api

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/fasttrack-go/fasttrack/scope"
	"github.com/gin-gonic/gin"
)

// errNoMiddleware is returned when no request state can be found from a
// gin.Context.
var errNoMiddleware = errors.New("api: no request scope on this gin.Context: the request-scope middleware " +
	"is not installed before this handler, or a middleware after it replaced c.Writer with a writer that " +
	"neither embeds the one it wraps nor has Unwrap() http.ResponseWriter, or c is a c.Copy() " +
	"(take s, err := api.Scope(c) in the handler and give the goroutine s)")

// maxUnwrap bounds the search through wrapping writers.
const maxUnwrap = 16

// requestOf returns the state of the request c is serving. The middleware
// attaches nothing to c: its state is reached through c.Writer, the
// request's holdWriter, or a writer that a later middleware wrapped around
// it (compression, caching), found through Unwrap or through the field
// that embeds it. (gin.Context.Set would cost every request a map.)
func requestOf(c *gin.Context) (*request, error) {
	if h, ok := c.Writer.(*holdWriter); ok && h.r != nil && h.r.c == c {
		return h.r, nil
	}
	var w http.ResponseWriter = c.Writer
	for range maxUnwrap {
		if v := reflect.ValueOf(w); v.Kind() == reflect.Pointer && v.IsNil() {
			return nil, errNoMiddleware // a typed nil: nothing to unwrap
		}
		switch x := w.(type) {
		case nil:
			return nil, errNoMiddleware
		case *doneWriter:
			return nil, fmt.Errorf("api: the request on this gin.Context has ended: %w", scope.ErrReleased)
		case *holdWriter:
			if x.r != nil && x.r.c == c {
				return x.r, nil
			}
			return nil, errNoMiddleware
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			w = wrapped(w)
		}
	}
	return nil, errNoMiddleware
}

// wrapped returns the writer that w, a struct or a pointer to one, holds
// in an exported or embedded field (gin.ResponseWriter embedded by a
// wrapping writer is an exported field named ResponseWriter), or nil.
func wrapped(w http.ResponseWriter) http.ResponseWriter {
	v := reflect.ValueOf(w)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	t := v.Type()
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			continue
		}
		f := v.Field(i)
		if k := f.Kind(); k != reflect.Interface && k != reflect.Pointer || f.IsNil() {
			continue
		}
		if inner, ok := f.Interface().(http.ResponseWriter); ok {
			return inner
		}
	}
	return nil
}

// Scope returns the scope of the request c is serving. Call it in the
// handler, and hand the *scope.Scope to the request's goroutines: they
// resolve from it (scope.Get), concurrently if they like, until the request
// ends, after which it answers scope.ErrReleased. A goroutine must not call
// Scope(c) (or Resolve(c)) itself: once the request has ended, that answers
// scope.ErrReleased until Gin reuses c for another request, and from then
// on it reaches that request's scope. A c.Copy() has no request scope.
// After a retry, the request runs on a fresh scope: call Scope again.
func Scope(c *gin.Context) (*scope.Scope, error) {
	r, err := requestOf(c)
	if err != nil {
		return nil, err
	}
	return r.open(), nil
}
