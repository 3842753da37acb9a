package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Error classes. Classify wraps a driver error so that errors.Is reports its
// class; the driver error stays reachable with errors.As.
var (
	// ErrUniqueViolation: an insert or update broke a unique constraint, or
	// a commit broke a deferred one.
	ErrUniqueViolation = errors.New("db: unique violation")
	// ErrForeignKeyViolation: an insert, update or delete broke a foreign
	// key (a row that references a missing row, or a referenced row deleted
	// or changed), or a commit broke a deferred one. The driver's error,
	// reachable with errors.As, names the constraint where the database
	// reports it (PostgreSQL's PgError.ConstraintName, MySQL's message;
	// SQLite does not name it).
	ErrForeignKeyViolation = errors.New("db: foreign key violation")
	// ErrRetryable: a serialization failure, deadlock, lock timeout or
	// SQLite busy; running the transaction again may succeed.
	ErrRetryable = errors.New("db: retryable transaction failure")
	// ErrConnLost: the connection to the server broke or could not be made.
	ErrConnLost = errors.New("db: connection lost")
)

// Class is the class of a database error.
type Class int

// The classes Classify reports.
const (
	ClassOther Class = iota
	ClassUniqueViolation
	ClassRetryable
	ClassConnLost
	ClassForeignKeyViolation
)

// sentinel returns the sentinel error of a class, nil for ClassOther.
func (c Class) sentinel() error {
	switch c {
	case ClassUniqueViolation:
		return ErrUniqueViolation
	case ClassRetryable:
		return ErrRetryable
	case ClassConnLost:
		return ErrConnLost
	case ClassForeignKeyViolation:
		return ErrForeignKeyViolation
	}
	return nil
}

// classifiedError carries a driver error and its class.
type classifiedError struct {
	class Class
	err   error
}

func (e *classifiedError) Error() string { return e.err.Error() }

// Unwrap exposes both the class sentinel and the driver error.
func (e *classifiedError) Unwrap() []error { return []error{e.class.sentinel(), e.err} }

// Classify wraps err so that errors.Is(err, ErrUniqueViolation),
// errors.Is(err, ErrForeignKeyViolation), errors.Is(err, ErrRetryable) or
// errors.Is(err, ErrConnLost) tells its class. Other errors, and nil, are returned unchanged.
func (d Dialect) Classify(err error) error {
	if err == nil {
		return nil
	}
	c := d.ClassOf(err)
	if c == ClassOther || errors.Is(err, c.sentinel()) {
		return err
	}
	return &classifiedError{class: c, err: err}
}

// ClassOf returns the class of a driver error.
func (d Dialect) ClassOf(err error) Class {
	switch {
	case err == nil:
		return ClassOther
	case errors.Is(err, ErrUniqueViolation):
		return ClassUniqueViolation
	case errors.Is(err, ErrForeignKeyViolation):
		return ClassForeignKeyViolation
	case errors.Is(err, ErrRetryable):
		return ClassRetryable
	case errors.Is(err, ErrConnLost):
		return ClassConnLost
	}
	var c Class
	switch d {
	case Postgres:
		c = classifyPostgres(err)
	case MySQL:
		c = classifyMySQL(err)
	case SQLite:
		c = classifySQLite(err)
	}
	if c == ClassOther && isConnError(err) {
		return ClassConnLost
	}
	return c
}

func classifyPostgres(err error) Class {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == "23505":
			return ClassUniqueViolation
		case pg.Code == "23503":
			return ClassForeignKeyViolation
		case pg.Code == "40001", pg.Code == "40P01", pg.Code == "55P03":
			return ClassRetryable
		case pg.Code == "57P01", pg.Code == "57P02", pg.Code == "57P03", len(pg.Code) == 5 && pg.Code[:2] == "08":
			return ClassConnLost
		}
		return ClassOther
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, pgconn.ErrConnClosed) {
		return ClassConnLost
	}
	return ClassOther
}

func classifyMySQL(err error) Class {
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		switch my.Number {
		case 1062, 1586:
			return ClassUniqueViolation
		case 1451, 1452, 1216, 1217: // the last two: the forms without the constraint's name
			return ClassForeignKeyViolation
		case 1213, 1205:
			return ClassRetryable
		case 2006, 2013, 1053, 1927:
			return ClassConnLost
		}
		return ClassOther
	}
	if errors.Is(err, mysql.ErrInvalidConn) {
		return ClassConnLost
	}
	return ClassOther
}

func classifySQLite(err error) Class {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return ClassOther
	}
	switch code := se.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return ClassUniqueViolation
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return ClassForeignKeyViolation
	case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
		return ClassRetryable
	}
	return ClassOther
}

// isConnError reports errors of the network or the driver's connection,
// whatever the dialect. A cancelled or expired context is not one.
func isConnError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.As(err, &ne)
}
