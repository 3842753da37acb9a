-- welcome_emails records the welcome email sent to each user, at most once:
-- the welcome job inserts the row in the transaction that completes it.

-- +goose Up
CREATE TABLE welcome_emails (
    user_id INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sent_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- +goose Down
DROP TABLE welcome_emails;
