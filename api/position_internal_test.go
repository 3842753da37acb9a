package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
)

// positionCluster returns a Cluster with a replica in name only: requestPosition
// verifies tokens, and never touches a pool.
func positionCluster(tb testing.TB) *db.Cluster {
	x, _, err := db.Open("sqlite::memory:", db.Pool{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close() })
	c, err := db.NewCluster(x, db.Postgres, db.ClusterOptions{Replicas: []db.Replica{{Name: "r", DB: x}},
		PositionKey: []byte("a key for the position tests"), MaxLag: 4 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestRequestPosition(t *testing.T) {
	if k := http.CanonicalHeaderKey(PositionHeader); k != positionHeaderKey {
		t.Fatalf("positionHeaderKey = %q, want %q", positionHeaderKey, k)
	}
	c := positionCluster(t)
	tok := c.SignPosition(0x2A00)
	other := c.SignPosition(0x2B00)
	for _, tc := range []struct {
		name           string
		header, cookie string
		want           db.Position
	}{
		{"none", "", "", 0},
		{"cookie", "", tok, 0x2A00},
		{"header", tok, "", 0x2A00},
		{"header wins", other, tok, 0x2B00},
		{"forged", "", "2a00.AAAAAAAAAAAAAAAAAAAAAA", 0},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: "x"})
		if tc.header != "" {
			req.Header.Set(PositionHeader, tc.header)
		}
		if tc.cookie != "" {
			req.AddCookie(&http.Cookie{Name: PositionCookie, Value: tc.cookie})
		}
		if got := requestPosition(c, req); got != tc.want {
			t.Errorf("%s: requestPosition = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// BenchmarkRequestPosition is what a request carrying a position (a
// cookie among others) pays to have it read and verified, on a Cluster
// with replicas.
func BenchmarkRequestPosition(b *testing.B) {
	c := positionCluster(b)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: "0123456789abcdef0123456789abcdef"})
	req.AddCookie(&http.Cookie{Name: PositionCookie, Value: c.SignPosition(0x16B374D848)})
	b.ReportAllocs()
	for b.Loop() {
		if requestPosition(c, req) == 0 {
			b.Fatal("no position")
		}
	}
}
