package api

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReplayBodyReadsAgainFromTheStart(t *testing.T) {
	body := strings.Repeat("0123456789", 100) // 1,000 bytes, over the first buffer
	for _, hint := range []int64{-1, 0, 10, 1000, 5000} {
		var b replayBody
		ok, err := b.readFrom(iotest.HalfReader(strings.NewReader(body)), 1<<20, hint)
		if !ok || err != nil {
			t.Fatalf("hint %d: readFrom = %v, %v", hint, ok, err)
		}
		for attempt := range 3 {
			b.rewind()
			got, err := io.ReadAll(iotest.OneByteReader(&b))
			if err != nil || string(got) != body {
				t.Fatalf("hint %d, attempt %d: read %d bytes, %v", hint, attempt, len(got), err)
			}
		}
		b.rewind()
		if got := b.rest(); string(got) != body || len(b.rest()) != 0 {
			t.Fatalf("hint %d: rest gave %d bytes, then not nothing", hint, len(got))
		}
	}
}

func TestReplayBodyOverTheLimit(t *testing.T) {
	var b replayBody
	ok, err := b.readFrom(strings.NewReader(strings.Repeat("x", 100)), 10, -1)
	if ok || err != nil {
		t.Fatalf("readFrom = %v, %v; want false, nil", ok, err)
	}
	if len(b.buf) != 11 {
		t.Errorf("read %d bytes ahead, want the limit + 1", len(b.buf))
	}
	// A limit of zero keeps only an empty body.
	if ok, _ := b.readFrom(strings.NewReader("x"), 0, -1); ok {
		t.Error("a one-byte body fits a limit of zero")
	}
	if ok, _ := b.readFrom(strings.NewReader(""), 0, -1); !ok {
		t.Error("an empty body does not fit a limit of zero")
	}
}

func TestReplayBodyReadError(t *testing.T) {
	boom := errors.New("connection reset")
	var b replayBody
	ok, err := b.readFrom(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), 100, -1)
	if ok || !errors.Is(err, boom) || string(b.buf) != "abc" {
		t.Fatalf("readFrom = %v, %v, read %q; want false, the error, and what came before it", ok, err, b.buf)
	}
}

func TestReplayBodyKeepsOnlyASmallBuffer(t *testing.T) {
	var b replayBody
	if _, err := b.readFrom(strings.NewReader(strings.Repeat("x", maxKeptReplay+1)), 1<<20, -1); err != nil {
		t.Fatal(err)
	}
	b.reset()
	if b.buf != nil {
		t.Errorf("a %d-byte buffer is kept for the next request", cap(b.buf))
	}
	if _, err := b.readFrom(strings.NewReader("small"), 1<<20, -1); err != nil {
		t.Fatal(err)
	}
	b.reset()
	if cap(b.buf) == 0 || len(b.buf) != 0 {
		t.Errorf("after a small body: len %d, cap %d; want an empty buffer kept", len(b.buf), cap(b.buf))
	}
}

func TestReplayAllocatesNothingOnceWarm(t *testing.T) {
	var b replayBody
	var s headerSnapshot
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"abc"}, "Vary": {"Origin", "Accept"}}
	body := strings.NewReader(`{"name":"Ann","email":"ann@example.com"}`)
	run := func() {
		body.Seek(0, io.SeekStart)
		if ok, err := b.readFrom(body, 1<<20, body.Size()); !ok || err != nil {
			t.Fatal(ok, err)
		}
		s.take(h)
		b.reset()
		s.reset()
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per request, want 0", n)
	}
}

func TestHeaderSnapshotRestores(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}, "Vary": {"Origin", "Accept"}, "Empty": {}}
	want := h.Clone()
	var s headerSnapshot
	s.take(h)
	// What a handler may do to the headers before it fails.
	h["Vary"][0] = "changed in place"
	h.Add("Vary", "Cookie")
	h.Set("Content-Type", "text/plain")
	h.Set("X-Added", "1")
	delete(h, "Empty")
	s.restore(h)
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("restored %v, want %v", h, want)
	}
	// The restored values are the response's own: changing them leaves
	// the snapshot as it was, for the next attempt.
	h["Vary"][0] = "changed again"
	s.restore(h)
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("second restore %v, want %v", h, want)
	}
}
