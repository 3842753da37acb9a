package db

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasttrack-go/fasttrack/db/internal/pgbegin"
	"github.com/jmoiron/sqlx"
)

// The defaults of the zero ClusterOptions fields, which config.Default has
// too.
const (
	// DefaultReplicaMaxLag is the default of ClusterOptions.MaxLag.
	DefaultReplicaMaxLag = 10 * time.Second
	// DefaultReplicaProbeInterval is the default of
	// ClusterOptions.ProbeInterval.
	DefaultReplicaProbeInterval = 500 * time.Millisecond
)

// ErrReplicaDialect is returned by NewCluster for replicas of a database
// other than PostgreSQL, the one dialect whose replicas FastTrack routes.
var ErrReplicaDialect = errors.New("db: read replicas need PostgreSQL")

// Replica is a read replica's pool and the name it goes by in logs,
// metrics and spans (its redacted URL, for a replica OpenReplicas opened).
type Replica struct {
	// Name names the replica; it must not hold a password.
	Name string
	// DB is the replica's pool, of its own limits.
	DB *sqlx.DB
}

// ClusterOptions are a Cluster's replicas and the rules it routes by.
type ClusterOptions struct {
	// Replicas are PostgreSQL streaming replicas of the primary. None:
	// everything runs on the primary, and a Cluster costs a read one
	// comparison.
	Replicas []Replica
	// MaxLag takes a replica whose replay lags the primary by more out of
	// rotation until it catches up; zero is DefaultReplicaMaxLag.
	MaxLag time.Duration
	// StickyWindow, when positive, keeps a read that carries no position
	// off the replicas that have not replayed the last write this Cluster
	// committed, for that long after the write. Zero: a read that carries
	// no position goes to any replica in rotation.
	StickyWindow time.Duration
	// ProbeInterval is how often Start probes each replica (and the
	// primary's position); zero is DefaultReplicaProbeInterval.
	ProbeInterval time.Duration
	// PositionKey signs the positions handed to clients (SignPosition);
	// empty is a random key of the Cluster's own, which another process
	// does not accept.
	PositionKey []byte
	// Logger logs replicas taken out of rotation and back in; nil is
	// slog.Default().
	Logger *slog.Logger
}

// Cluster is a primary and its read replicas. A unit of work declared
// read-only — a read-only transaction (TxOptions.ReadOnly, a read-only
// route's, Cluster.WithTx's), or a read through ReadQuerier — runs on a
// replica in rotation that has replayed the position the unit of work must
// see (see Position); every other one runs on the primary. A replica is in
// rotation while its last probe answered, it is a standby, and its replay
// lag is at most MaxLag; a replica that fails a statement is taken out at
// once and the statement runs again on the primary, so that no caller sees
// a replica's failure. With no replica in rotation, everything runs on the
// primary.
//
// Cluster is a Querier on the primary: its statements, reads included, run
// there; ReadQuerier gives the Querier of a read. A Cluster is safe for
// concurrent use.
type Cluster struct {
	primary *sqlx.DB
	dialect Dialect
	nodes   []*node
	maxLag  time.Duration
	window  time.Duration
	every   time.Duration
	signer  *positionSigner
	log     *slog.Logger

	next        atomic.Uint32 // the rotation's cursor
	lastWrite   atomic.Uint64 // the highest Position NoteWrite saw
	lastWriteAt atomic.Int64  // when, in Unix nanoseconds
	toReplica   atomic.Uint64 // read units of work routed to a replica
	toPrimary   atomic.Uint64 // read units of work routed to the primary
	rides       atomic.Int32  // 0 unknown, 1 the primary's COMMIT brings back its position, 2 it does not

	probing sync.Mutex // one probe round at a time
	start   sync.Once
	halt    sync.Once
	stop    chan struct{}
	stopped chan struct{}
}

// node is a replica and its health, which probes and failures write and
// routing reads without a lock.
type node struct {
	Replica
	c        *Cluster
	up       atomic.Bool
	replayed atomic.Uint64 // a Position
	lag      atomic.Int64  // a time.Duration; -1 when unknown
	reason   string        // why it is out of rotation; under c.probing
}

// NewCluster returns the Cluster of primary, of dialect d, and opts'
// replicas, which are out of rotation until Probe (or Start) finds them
// healthy. Replicas of a database other than PostgreSQL fail with
// ErrReplicaDialect. Close stops probing and closes the replicas' pools,
// not the primary's.
func NewCluster(primary *sqlx.DB, d Dialect, opts ClusterOptions) (*Cluster, error) {
	if len(opts.Replicas) > 0 && d != Postgres {
		return nil, ErrReplicaDialect
	}
	c := &Cluster{primary: primary, dialect: d, maxLag: opts.MaxLag, window: opts.StickyWindow,
		every: opts.ProbeInterval, log: opts.Logger,
		stop: make(chan struct{}), stopped: make(chan struct{})}
	if c.maxLag <= 0 {
		c.maxLag = DefaultReplicaMaxLag
	}
	if c.every <= 0 {
		c.every = DefaultReplicaProbeInterval
	}
	key := opts.PositionKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // never fails (crypto/rand)
	}
	c.signer = newPositionSigner(key)
	if c.log == nil {
		c.log = slog.Default()
	}
	for _, r := range opts.Replicas {
		n := &node{Replica: r, c: c, reason: "not probed yet"}
		n.lag.Store(-1)
		c.nodes = append(c.nodes, n)
	}
	return c, nil
}

// PrimaryOnly returns the Cluster of primary alone, of dialect d: every
// unit of work runs on it.
func PrimaryOnly(primary *sqlx.DB, d Dialect) *Cluster {
	c, _ := NewCluster(primary, d, ClusterOptions{}) // no replica: no error
	return c
}

// Primary returns the primary's pool.
func (c *Cluster) Primary() *sqlx.DB { return c.primary }

// Dialect returns the primary's dialect.
func (c *Cluster) Dialect() Dialect { return c.dialect }

// HasReplicas reports whether the Cluster has replicas, in rotation or not.
func (c *Cluster) HasReplicas() bool { return len(c.nodes) > 0 }

// MaxLag returns the replay lag past which a replica leaves rotation.
func (c *Cluster) MaxLag() time.Duration { return c.maxLag }

// PositionLifetime is how long a client must keep a write's position: past
// it, every replica in rotation has replayed the write — it lags by at
// most MaxLag, as measured by probes up to two intervals old.
func (c *Cluster) PositionLifetime() time.Duration { return c.maxLag + 2*c.every + time.Second }

// pick returns a replica in rotation that has replayed min (raised to the
// last write within the sticky window), or nil for the primary, and
// counts the choice.
func (c *Cluster) pick(min Position) *node {
	if len(c.nodes) == 0 {
		return nil
	}
	if c.window > 0 {
		if w := Position(c.lastWrite.Load()); w > min && time.Now().UnixNano()-c.lastWriteAt.Load() < int64(c.window) {
			min = w
		}
	}
	start := c.next.Add(1)
	for i := range uint32(len(c.nodes)) {
		n := c.nodes[(start+i)%uint32(len(c.nodes))]
		if n.up.Load() && Position(n.replayed.Load()) >= min {
			c.toReplica.Add(1)
			return n
		}
	}
	c.toPrimary.Add(1)
	return nil
}

// NoteWrite records that a write committed at p: the sticky window
// (ClusterOptions.StickyWindow) counts from it. Tx calls it after each
// committed write of a Cluster with replicas.
func (c *Cluster) NoteWrite(p Position) {
	for {
		old := c.lastWrite.Load()
		if uint64(p) <= old || c.lastWrite.CompareAndSwap(old, uint64(p)) {
			break
		}
	}
	c.lastWriteAt.Store(time.Now().UnixNano())
}

// SignPosition returns p as a token to hand to a client, signed with the
// Cluster's key (ClusterOptions.PositionKey).
func (c *Cluster) SignPosition(p Position) string { return c.signer.sign(p) }

// VerifyPosition returns the position of a token SignPosition made with
// the same key, and false for any other text: a forged or damaged token
// stands for no position.
func (c *Cluster) VerifyPosition(token string) (Position, bool) {
	return c.signer.verify(token)
}

// ridesCommit reports whether the primary's COMMIT brings back its
// position in its own round trip (pgbegin.PositionStatement), as the first
// probe found: its pool is of db.Open's PostgreSQL connector.
func (c *Cluster) ridesCommit() bool { return c.rides.Load() == 1 }

// learnRides finds, once, whether the primary's connections are of db.Open's
// PostgreSQL connector (see ridesCommit).
func (c *Cluster) learnRides(ctx context.Context) {
	if c.rides.Load() != 0 {
		return
	}
	conn, err := c.primary.Conn(ctx)
	if err != nil {
		return // the next probe asks again
	}
	defer conn.Close()
	rides := false
	_ = conn.Raw(func(dc any) error {
		r, ok := dc.(pgbegin.Rider)
		rides = ok && r.RidesCommit()
		return nil
	})
	if rides {
		c.rides.Store(1)
	} else {
		c.rides.Store(2)
	}
}

// markDown takes n out of rotation after err, until a probe finds it
// healthy again.
func (c *Cluster) markDown(n *node, err error) {
	if n.up.Swap(false) {
		c.log.Warn("replica out of rotation", "replica", n.Name, "reason", "failed: "+err.Error())
	}
}

// ReplicaStatus is a replica's state, as the last probe or failure left
// it.
type ReplicaStatus struct {
	// Name is the replica's name.
	Name string
	// Up reports whether the replica is in rotation.
	Up bool
	// Lag is the replay lag the last probe measured; negative when unknown.
	Lag time.Duration
	// Replayed is the position the replica had replayed at the last probe.
	Replayed Position
	// InUse and Open are the replica pool's connections in use and open;
	// MaxOpen is its limit (0 for none).
	InUse, Open, MaxOpen int
}

// Replicas returns the state of each replica, in the order of
// ClusterOptions.Replicas.
func (c *Cluster) Replicas() []ReplicaStatus {
	out := make([]ReplicaStatus, len(c.nodes))
	for i, n := range c.nodes {
		st := n.DB.Stats()
		out[i] = ReplicaStatus{Name: n.Name, Up: n.up.Load(), Lag: time.Duration(n.lag.Load()),
			Replayed: Position(n.replayed.Load()), InUse: st.InUse, Open: st.OpenConnections, MaxOpen: st.MaxOpenConnections}
	}
	return out
}

// Routed returns how many read units of work ran on a replica, and how
// many on the primary for want of one in rotation that had replayed their
// position, since the Cluster was made. Units of work of a Cluster
// without replicas are not counted.
func (c *Cluster) Routed() (replica, primary uint64) {
	return c.toReplica.Load(), c.toPrimary.Load()
}

// WithTx is WithTxOptions on the Cluster: a read-only transaction
// (opts.ReadOnly) runs on a replica that has replayed the position of ctx
// (WithPosition), and a committed write records its position (Tx.Position).
func (c *Cluster) WithTx(ctx context.Context, opts TxOptions, fn func(tx *Tx) error) error {
	return withTxOn(ctx, c, opts, fn)
}

// Close stops the probes and closes the replicas' pools; the primary's
// stays open.
func (c *Cluster) Close() error {
	c.start.Do(func() { close(c.stopped) }) // never started: nothing to wait for
	c.halt.Do(func() { close(c.stop) })
	<-c.stopped
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.DB.Close())
	}
	return errors.Join(errs...)
}

// positionKey is the context key of WithPosition.
type positionKey struct{}

// WithPosition returns ctx carrying p: a read-only unit of work on ctx
// runs on a replica only once the replica has replayed p. Pass the
// Position of a write's transaction (Tx.Position) to read that write
// wherever the read runs.
func WithPosition(ctx context.Context, p Position) context.Context {
	return context.WithValue(ctx, positionKey{}, p)
}

// PositionFrom returns the position of ctx (WithPosition), or zero.
func PositionFrom(ctx context.Context) Position {
	p, _ := ctx.Value(positionKey{}).(Position)
	return p
}
