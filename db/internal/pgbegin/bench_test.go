package pgbegin_test

import (
	"context"
	"database/sql"
	"net"
	"testing"
	"time"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/internal/testdb"
)

// delayed returns a connection to c whose every chunk arrives delay late
// in each direction, as over a network with a round trip of twice delay.
// Chunks sent one after another are delayed each by delay, not by the sum:
// a write that is not waited for costs no time.
func delayed(c net.Conn, delay time.Duration) net.Conn {
	client, proxy := net.Pipe()
	go pump(proxy, c, delay)
	go pump(c, proxy, delay)
	return client
}

// pump copies src to dst, each chunk delay after it was read; it closes
// both when either fails.
func pump(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		b   []byte
		due time.Time
	}
	chunks := make(chan chunk, 1024)
	go func() {
		defer close(chunks)
		for {
			b := make([]byte, 64<<10)
			n, err := src.Read(b)
			if n > 0 {
				chunks <- chunk{b[:n], time.Now().Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for ch := range chunks {
		time.Sleep(time.Until(ch.due))
		if _, err := dst.Write(ch.b); err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	for range chunks {
	}
}

// BenchmarkPGReadOnlyGetByID times what a request waits for: a read-only
// transaction of one SELECT by id, from BeginTx to Commit's return, on one
// connection, directly and through a link that delays each direction by
// 1 ms. "idle" settles the connection before each transaction, untimed
// (a connection idle in the pool); "back to back" runs them one after
// the other, each paying whatever wait is left of the one before. It runs
// through FastTrack's connector (COMMIT unanswered until the connection's
// next use), through it at serializable (COMMIT waited for), and through
// pgx's own connector, and reports the round trips waited for per
// transaction.
func BenchmarkPGReadOnlyGetByID(b *testing.B) {
	u := testdb.New(b, db.Postgres)
	for _, link := range []struct {
		name  string
		delay time.Duration
	}{{"local", 0}, {"1ms each way", time.Millisecond}} {
		for _, idle := range []bool{true, false} {
			for _, c := range []struct {
				name      string
				fasttrack bool
				opts      *sql.TxOptions
			}{
				{"read only", true, &sql.TxOptions{ReadOnly: true}},
				{"read only serializable", true, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelSerializable}},
				{"pgx stdlib read only", false, &sql.TxOptions{ReadOnly: true}},
			} {
				mode := "idle"
				if !idle {
					mode = "back to back"
				}
				b.Run(link.name+"/"+mode+"/"+c.name, func(b *testing.B) {
					x, tr := openCounted(b, u, c.fasttrack, link.delay)
					conn, err := x.Connx(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					defer conn.Close()
					ctx := context.Background()
					var turns int64
					run := func() {
						if idle {
							if err := conn.PingContext(ctx); err != nil { // settles
								b.Fatal(err)
							}
						}
						_, t0 := tr.counts()
						b.StartTimer()
						tx, err := conn.BeginTxx(ctx, c.opts)
						if err != nil {
							b.Fatal(err)
						}
						if err := getByID(ctx, tx); err != nil {
							b.Fatal(err)
						}
						if err := tx.Commit(); err != nil {
							b.Fatal(err)
						}
						b.StopTimer()
						_, t1 := tr.counts()
						turns += t1 - t0
					}
					b.StopTimer()
					run() // prepares the statement
					turns = 0
					b.ResetTimer()
					b.StopTimer()
					for range b.N {
						run()
					}
					b.ReportMetric(float64(turns)/float64(b.N), "roundtrips/op")
				})
			}
		}
	}
}
