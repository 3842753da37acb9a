package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
)

// PositionCookie and PositionHeader carry a client's read position: the
// signed WAL position (db.Cluster.SignPosition) of the last write it
// committed. A request that commits a write, on a db.Cluster with
// replicas, answers with both; a later request that sends either back
// (a browser sends the cookie by itself) reads on a replica only once the
// replica has replayed that write, and on the primary until then. The
// header wins when a request carries both. A token that does not verify
// stands for no position.
const (
	PositionCookie = "fasttrack_position"
	PositionHeader = "FastTrack-Position"
)

// positionHeaderKey is PositionHeader in the canonical form http.Header
// keys it by, so that reading it allocates nothing.
const positionHeaderKey = "Fasttrack-Position"

// requestPosition returns the verified position req carries, or zero.
func requestPosition(c *db.Cluster, req *http.Request) db.Position {
	var tok string
	if v := req.Header[positionHeaderKey]; len(v) > 0 {
		tok = v[0]
	}
	if tok == "" {
		if tok = positionCookie(req.Header["Cookie"]); tok == "" {
			return 0
		}
	}
	p, _ := c.VerifyPosition(tok)
	return p
}

// positionCookie returns the value of the PositionCookie among the Cookie
// header lines, or "". Unlike http.Request.Cookie, it parses no other
// cookie, and allocates nothing.
func positionCookie(lines []string) string {
	for _, line := range lines {
		for rest := line; rest != ""; {
			var part string
			part, rest, _ = strings.Cut(rest, ";")
			name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && name == PositionCookie {
				return strings.Trim(value, `"`)
			}
		}
	}
	return ""
}

// answerPosition hands the client the position of the write r committed,
// if any, before the response's headers leave.
func (r *request) answerPosition() {
	if r.cluster == nil || r.tx == nil {
		return
	}
	p := r.tx.Position()
	if p == 0 {
		return
	}
	tok := r.cluster.SignPosition(p)
	h := r.hold.w.Header()
	h.Set(PositionHeader, tok)
	// Past it, every replica in rotation has replayed the write: the
	// cookie can go.
	age := r.cluster.PositionLifetime() + time.Second - 1
	ck := http.Cookie{Name: PositionCookie, Value: tok, Path: "/", MaxAge: int(age / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.c.Request.TLS != nil}
	h.Add("Set-Cookie", ck.String())
}
