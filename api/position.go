package api

import (
	"net/http"
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

// requestPosition returns the verified position req carries, or zero.
func requestPosition(c *db.Cluster, req *http.Request) db.Position {
	tok := req.Header.Get(PositionHeader)
	if tok == "" {
		ck, err := req.Cookie(PositionCookie)
		if err != nil {
			return 0
		}
		tok = ck.Value
	}
	p, _ := c.VerifyPosition(tok)
	return p
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
	// Past the replica lag a replica may have, every replica in rotation
	// has replayed the write: the cookie can go.
	age := r.cluster.MaxLag() + time.Second
	ck := http.Cookie{Name: PositionCookie, Value: tok, Path: "/", MaxAge: int(age / time.Second),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.c.Request.TLS != nil}
	h.Add("Set-Cookie", ck.String())
}
