-- Emails are stored trimmed and lower-cased, and unique whatever their case.
-- Up fails, changing nothing, when two existing emails differ only in case
-- or in the spaces around them: merge or rename those users first.
-- SQLite's lower() folds ASCII letters only: two addresses that differ in
-- the case of a non-ASCII letter are told apart by the application, which
-- lower-cases every letter before it writes.

-- +goose Up
UPDATE users SET email = lower(trim(email)) WHERE email <> lower(trim(email));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- +goose Down
-- The emails stay normalised: their former case is not kept.
DROP INDEX users_email_lower_key;
