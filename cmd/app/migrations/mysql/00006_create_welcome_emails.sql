-- welcome_emails records the welcome email sent to each user, at most once:
-- the welcome job inserts the row in the transaction that completes it. The
-- app runs no jobs on MySQL; the table is there for the schema to match.

-- +goose Up
CREATE TABLE welcome_emails (
    user_id BIGINT NOT NULL PRIMARY KEY,
    sent_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT welcome_emails_user_id_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE welcome_emails;
