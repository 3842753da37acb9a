// Package dburl is FastTrack's one grammar for database URLs (the
// DATABASE_URL variable): [Parse] maps a URL to its dialect, its
// database/sql driver and the driver's DSN, and [Redact] hides passwords
// in anything printed. The config package validates DATABASE_URL with
// Parse, and the db package opens the pool with it, so a URL the
// configuration accepts is a URL the pool opens, and the other way round.
//
// # Grammar
//
// The scheme is case-insensitive (SQLITE:, Postgres:// and MySQL:// are
// sqlite:, postgres:// and mysql://); nothing else is.
//
//	sqlite:PATH               an SQLite file; a relative PATH is relative to the working directory
//	sqlite:/ABS/PATH          an absolute PATH, also written sqlite:///ABS/PATH
//	sqlite::memory:           a private in-memory database, new at each Parse
//	sqlite:PATH?PARAMS        PARAMS go to modernc.org/sqlite (_pragma=…, _txlock=…)
//	postgres://…              PostgreSQL through pgx v5; also postgresql://…, any libpq URL:
//	                          user:password@host:port/db?sslmode=…, several hosts, host=/socket/dir
//	mysql://user:pass@host:port/db?PARAMS
//	                          MySQL or MariaDB through go-sql-driver/mysql; port 3306 by default;
//	                          PARAMS are the driver's (loc, timeout, tls, …)
//
// Refused, each with [ErrUnknownScheme] or [ErrMalformed] and a message
// that says what to write instead:
//
//	""                        empty
//	app.db                    no scheme: write sqlite:app.db
//	sqlite3:app.db, file:x    not schemes of FastTrack: write sqlite:app.db
//	redis://…                 an unknown scheme
//	sqlite:, sqlite://        no path
//	sqlite://host/x.db        a host: write sqlite:PATH or sqlite:///abs/path
//	postgres:db, mysql:db     no "//" after the scheme
//	postgres://h:99999/db     a port outside 0-65535, or not a number
//	mysql:///db               MySQL without a host (a socket is not supported)
//	mysql://u@h/db?timeout=x  a parameter the MySQL driver refuses
//	mysql://:pw@h/db          a user, password, host or database the
//	                          MySQL driver's DSN cannot carry
//
// User names and passwords with special characters (@ : / ? # % and
// spaces) must be percent-encoded, as in any URL.
//
// # What the DSN adds
//
// SQLite connections get busy_timeout ([BusyTimeoutMillis], unless the URL
// sets one), foreign keys on, and write transactions that begin IMMEDIATE
// (_txlock=immediate unless the URL sets _txlock); a file database also
// gets WAL and synchronous=NORMAL. Every sqlite::memory: is a new named
// in-memory database (the memdb VFS), shared by the connections of one
// pool and gone with its last connection. PostgreSQL gets the URL itself,
// its scheme in lower case. MySQL always gets parseTime and
// clientFoundRows.
//
// # Passwords
//
// No error of Parse contains the URL's password: [Error.URL] is the URL
// passed through Redact, and a URL that only fails because of its password
// is reported as such, without quoting it. [RedactText] hides a URL's
// password in another text, such as a driver's error message.
package dburl
