package api

import (
	"reflect"
	"unsafe"

	"github.com/gin-gonic/gin"
)

// chainCursor reads and sets the position of the running handler in a
// gin.Context's chain. Gin keeps it unexported and offers no way to run the
// rest of a chain again; a retry needs exactly that, so that the middlewares
// between the request scope and the handler run again around each attempt
// and have their say before the commit. The field is found once by
// reflection; if a Gin release renames it, ok is false and requests are
// not retried (NewMiddleware logs it), rather than misbehaving.
type chainCursor struct {
	offset uintptr
	ok     bool
}

// newChainCursor locates gin.Context's handler index.
func newChainCursor() chainCursor {
	f, found := reflect.TypeFor[gin.Context]().FieldByName("index")
	if !found || f.Type.Kind() != reflect.Int8 {
		return chainCursor{}
	}
	return chainCursor{offset: f.Offset, ok: true}
}

// at returns the position of the handler c is running.
func (cc chainCursor) at(c *gin.Context) int8 {
	return *(*int8)(unsafe.Add(unsafe.Pointer(c), cc.offset))
}

// rewind makes c.Next run the handlers after position i again.
func (cc chainCursor) rewind(c *gin.Context, i int8) {
	*(*int8)(unsafe.Add(unsafe.Pointer(c), cc.offset)) = i
}
