package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestClassOfWrappedDriverErrors(t *testing.T) {
	for _, tc := range []struct {
		d    Dialect
		err  error
		want Class
	}{
		{Postgres, fmt.Errorf("begin: %w", pgconn.ErrConnClosed), ClassConnLost},
		{Postgres, &pgconn.PgError{Code: "40001"}, ClassRetryable},
		{Postgres, &pgconn.PgError{Code: "40P01"}, ClassRetryable},
		{Postgres, &pgconn.PgError{Code: "23505"}, ClassUniqueViolation},
		{Postgres, &pgconn.PgError{Code: "23503"}, ClassForeignKeyViolation},
		{Postgres, &pgconn.PgError{Code: "23502"}, ClassOther}, // not null
		{Postgres, &pgconn.PgError{Code: "57P01"}, ClassConnLost},
		{Postgres, &pgconn.PgError{Code: "42P01"}, ClassOther},
		{MySQL, &mysql.MySQLError{Number: 1213}, ClassRetryable},
		{MySQL, &mysql.MySQLError{Number: 1205}, ClassRetryable},
		{MySQL, &mysql.MySQLError{Number: 1062}, ClassUniqueViolation},
		{MySQL, &mysql.MySQLError{Number: 1451}, ClassForeignKeyViolation},
		{MySQL, &mysql.MySQLError{Number: 1452}, ClassForeignKeyViolation},
		{MySQL, &mysql.MySQLError{Number: 1216}, ClassForeignKeyViolation},
		{MySQL, &mysql.MySQLError{Number: 1217}, ClassForeignKeyViolation},
		{MySQL, fmt.Errorf("commit: %w", ErrForeignKeyViolation), ClassForeignKeyViolation},
		{MySQL, fmt.Errorf("commit: %w", mysql.ErrInvalidConn), ClassConnLost},
		{SQLite, driver.ErrBadConn, ClassConnLost},
		{Postgres, context.Canceled, ClassOther},
		{MySQL, context.DeadlineExceeded, ClassOther},
		{SQLite, errors.New("something else"), ClassOther},
	} {
		if got := tc.d.ClassOf(tc.err); got != tc.want {
			t.Errorf("%s.ClassOf(%v) = %v, want %v", tc.d, tc.err, got, tc.want)
		}
	}
}
