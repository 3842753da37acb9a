package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func pgcpu(pid int) time.Duration {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(string(b))
	u, _ := strconv.Atoi(f[13])
	s, _ := strconv.Atoi(f[14])
	return time.Duration(u+s) * 10 * time.Millisecond
}

func main() {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err != nil {
		panic(err)
	}
	var pid int
	c.QueryRow(ctx, "select pg_backend_pid()").Scan(&pid)
	c.Exec(ctx, "create table if not exists zz(id int primary key, name text)")
	c.Exec(ctx, "insert into zz values (1,'a') on conflict do nothing")
	const n = 20000
	q := "select id, name from zz where id = $1"
	for round := 0; round < 3; round++ {
		for _, mode := range []string{"separate", "pipelined"} {
			t0, c0, p0 := time.Now(), cpu(), pgcpu(pid)
			for i := 0; i < n; i++ {
				var id int
				var name string
				if mode == "separate" {
					tx, err := c.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
					if err != nil {
						panic(err)
					}
					if err := tx.QueryRow(ctx, q, 1).Scan(&id, &name); err != nil {
						panic(err)
					}
					tx.Commit(ctx)
				} else {
					b := &pgx.Batch{}
					b.BeginTx(pgx.TxOptions{AccessMode: pgx.ReadOnly})
					b.Queue(q, 1)
					br := c.SendBatch(ctx, b)
					if _, err := br.Exec(); err != nil {
						panic(err)
					}
					if err := br.QueryRow().Scan(&id, &name); err != nil {
						panic(err)
					}
					br.Close()
					c.Exec(ctx, "commit")
				}
			}
			fmt.Printf("%-10s wall %6.1fµs  go cpu %6.1fµs  pg cpu %6.1fµs\n", mode,
				float64(time.Since(t0).Microseconds())/n, float64((cpu()-c0).Microseconds())/n, float64((pgcpu(pid)-p0).Microseconds())/n)
		}
	}
}
