package repo

import (
	"context"
	"time"
)

// Timestamps, embedded in a model, makes the repository manage its
// created_at and updated_at columns: Create sets both, Update sets
// updated_at. Times are UTC, truncated to microseconds so that every
// supported database stores exactly what Go holds.
type Timestamps struct {
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
}

// SoftDelete, embedded in a model, makes Delete set deleted_at instead of
// removing the row. Queries skip deleted rows unless the repository is
// WithTrashed; Restore undoes a delete and ForceDelete removes the row for
// good.
type SoftDelete struct {
	DeletedAt *time.Time `db:"deleted_at" json:"deleted_at,omitempty"`
}

// Versioned, embedded in a model, gives it optimistic locking: Create sets
// Version to 1; Update writes only when the row still has the model's
// Version, and increments it. An Update from a stale copy fails with
// ErrConflict and writes nothing.
type Versioned struct {
	Version int64 `db:"version" json:"version"`
}

// Model events: a model (through its pointer) may implement any of these.
// A Before hook runs before the statement is sent, and its error aborts
// the operation with nothing written. An After hook runs after the
// statement succeeded; its error is returned (the row is written: run the
// operation in a transaction for the error to undo it).
//
// Delete, ForceDelete: the hooks run on the row as loaded before the delete,
// so a model that implements BeforeDeleter or AfterDeleter costs one more
// SELECT per delete.
type (
	// BeforeCreator is called by Create and CreateMany before the INSERT,
	// before the timestamps and version are filled.
	BeforeCreator interface {
		BeforeCreate(ctx context.Context) error
	}
	// AfterCreator is called by Create and CreateMany after the INSERT,
	// once the id is set.
	AfterCreator interface {
		AfterCreate(ctx context.Context) error
	}
	// BeforeUpdater is called by Update before the UPDATE, before
	// updated_at is set.
	BeforeUpdater interface {
		BeforeUpdate(ctx context.Context) error
	}
	// AfterUpdater is called by Update after a successful UPDATE.
	AfterUpdater interface {
		AfterUpdate(ctx context.Context) error
	}
	// BeforeDeleter is called by Delete and ForceDelete, on the loaded row,
	// before the row is deleted.
	BeforeDeleter interface {
		BeforeDelete(ctx context.Context) error
	}
	// AfterDeleter is called by Delete and ForceDelete, on the row as
	// loaded before the delete (with DeletedAt set by a soft delete).
	AfterDeleter interface {
		AfterDelete(ctx context.Context) error
	}
)

// now is the time the repository writes: UTC, to the microsecond.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
