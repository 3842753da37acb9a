package api

import (
	"errors"
	"io"
	"net/http"
	"slices"
)

// replayBody is a request body kept in memory so that a retried handler
// reads it again from the start. It lives in the pooled request state, and
// its buffer is reused from one request to the next: a retried request costs
// no allocation once the pool is warm.
type replayBody struct {
	buf []byte // the whole body
	off int    // how much of it this attempt has read
}

// maxKeptReplay is the largest body buffer a request state keeps for the
// next request; a larger one goes to the garbage collector.
const maxKeptReplay = 64 << 10

// readFrom reads body into b's buffer, up to limit bytes. It reports false,
// with what it read in b.buf, when body holds more than limit bytes.
func (b *replayBody) readFrom(body io.Reader, limit int64, sizeHint int64) (bool, error) {
	buf := b.buf[:0]
	if sizeHint > 0 && sizeHint <= limit && int64(cap(buf)) < sizeHint+1 {
		buf = make([]byte, 0, sizeHint+1) // +1: room to see the EOF
	}
	defer func() { b.buf, b.off = buf, 0 }()
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(512, cap(buf)))
		}
		end := int(min(int64(cap(buf)), limit+1)) // no further than it takes to see the body is too large
		n, err := body.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		switch {
		case int64(len(buf)) > limit:
			return false, nil
		case errors.Is(err, io.EOF):
			return true, nil
		case err != nil:
			return false, err
		}
	}
}

// rewind makes the next read start from the beginning.
func (b *replayBody) rewind() { b.off = 0 }

// rest returns what this attempt has not read yet, and marks it read.
func (b *replayBody) rest() []byte {
	p := b.buf[b.off:]
	b.off = len(b.buf)
	return p
}

// Read reads the body.
func (b *replayBody) Read(p []byte) (int, error) {
	if b.off >= len(b.buf) {
		return 0, io.EOF
	}
	n := copy(p, b.buf[b.off:])
	b.off += n
	return n, nil
}

// Close does nothing: the server closes the request's own body.
func (b *replayBody) Close() error { return nil }

// reset forgets the body, keeping a small buffer for the next request.
func (b *replayBody) reset() {
	if cap(b.buf) > maxKeptReplay {
		b.buf = nil
	}
	b.buf, b.off = b.buf[:0], 0
}

// headerSnapshot is a copy of a response's headers, kept to restore them
// before a retry. Its slices are reused from one request to the next.
type headerSnapshot struct {
	keys []string
	ends []int // keys[i]'s values are vals[ends[i-1]:ends[i]]
	vals []string
}

// take copies h.
func (s *headerSnapshot) take(h http.Header) {
	s.keys, s.ends, s.vals = s.keys[:0], s.ends[:0], s.vals[:0]
	for k, v := range h {
		s.keys = append(s.keys, k)
		s.vals = append(s.vals, v...)
		s.ends = append(s.ends, len(s.vals))
	}
}

// restore makes h what it was when take copied it. The values are copied
// again: the handler that runs next may change them in place.
func (s *headerSnapshot) restore(h http.Header) {
	clear(h)
	from := 0
	for i, k := range s.keys {
		v := make([]string, s.ends[i]-from)
		copy(v, s.vals[from:s.ends[i]])
		h[k] = v
		from = s.ends[i]
	}
}

// reset forgets the headers; the strings are dropped, so that the pool
// holds no request's data.
func (s *headerSnapshot) reset() {
	clear(s.keys)
	clear(s.vals)
	s.keys, s.ends, s.vals = s.keys[:0], s.ends[:0], s.vals[:0]
}
