-- Posts belong to a user; deleting the user deletes their posts. A post is
-- soft-deleted: deleted_at is set and the row stays.

-- +goose Up
CREATE TABLE posts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL CHECK (length(title) <= 200),
    body       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted_at TIMESTAMP NULL
);
CREATE INDEX posts_user_id_idx ON posts (user_id);

-- +goose Down
DROP TABLE posts;
