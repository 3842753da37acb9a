package users

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/fasttrack-go/fasttrack/db"
	"github.com/fasttrack-go/fasttrack/jobs"
	"github.com/riverqueue/river"
	"go.uber.org/fx"
)

// WelcomeArgs are the arguments of the welcome email job, which POST /users
// enqueues for the user it creates.
type WelcomeArgs struct {
	UserID int64 `json:"user_id"`
}

// Kind names the job's kind in River.
func (WelcomeArgs) Kind() string { return "users.welcome" }

// Email is an email to send.
type Email struct {
	To, Subject, Body string
}

// Mailer sends emails. Module provides a LogMailer; an app or a test
// replaces it with fx.Decorate.
type Mailer interface {
	Send(ctx context.Context, m Email) error
}

// LogMailer is a Mailer that logs each email instead of sending it.
type LogMailer struct{ log *slog.Logger }

// NewLogMailer returns a LogMailer writing to log, as a Mailer.
func NewLogMailer(log *slog.Logger) Mailer { return &LogMailer{log: log} }

// Send logs m at INFO and returns nil.
func (m *LogMailer) Send(ctx context.Context, e Email) error {
	m.log.InfoContext(ctx, "email sent", "to", e.To, "subject", e.Subject)
	return nil
}

// Welcomer enqueues welcome emails in the transaction of its scope: a
// request that rolls back enqueues none. In an app without jobs
// (fxmodules.Jobs), Module provides the zero Welcomer, which enqueues
// nothing.
type Welcomer struct{ enq *jobs.Enqueuer }

// Enqueue enqueues the welcome email of the user with id, or does nothing
// in an app without jobs.
func (w *Welcomer) Enqueue(ctx context.Context, id int64) error {
	if w.enq == nil {
		return nil
	}
	if _, err := w.enq.Enqueue(ctx, WelcomeArgs{UserID: id}, nil); err != nil {
		return fmt.Errorf("users: welcome email of user %d: %w", id, err)
	}
	return nil
}

// welcomeQueue is the app's job client, nil when the app runs no jobs.
type welcomeQueue struct{ client *jobs.Client }

// newWelcomeQueue takes the app's job client when it has one.
func newWelcomeQueue(in struct {
	fx.In
	Client *jobs.Client `optional:"true"`
}) welcomeQueue {
	return welcomeQueue{client: in.Client}
}

// newWelcomer returns the Welcomer of a scope whose transaction is tx.
func newWelcomer(q welcomeQueue, tx *db.Tx) *Welcomer {
	if q.client == nil {
		return &Welcomer{}
	}
	return &Welcomer{enq: jobs.NewEnqueuer(q.client, tx)}
}

// SendWelcome is the welcome email job's worker. It records the email in
// welcome_emails, then sends it; the record commits with the job's
// completion, so an attempt whose sending fails leaves no record and is
// retried. A user already welcomed, or deleted since, gets no email.
func SendWelcome(ctx context.Context, job *river.Job[WelcomeArgs], r *Repository, mail Mailer) error {
	u, err := r.Find(ctx, job.Args.UserID)
	if err != nil {
		return err
	}
	if u == nil {
		return nil
	}
	first, err := r.RecordWelcome(ctx, u.ID)
	if err != nil || !first {
		return err
	}
	return mail.Send(ctx, Email{
		To:      u.Email,
		Subject: "Welcome",
		Body:    fmt.Sprintf("Hello %s, welcome aboard.", u.Name),
	})
}
