-- Emails are stored trimmed and lower-cased, and unique whatever their case.
-- The table's collation is utf8mb4_bin, which compares case-sensitively, so
-- the unique index is on an invisible generated column holding lower(email)
-- (MySQL 8.0.23+ and MariaDB 10.3+; SELECT * does not return it). A
-- case-insensitive collation would also make "é" equal "e" and "ß" equal
-- "ss", which are different addresses.
-- Up fails when two existing emails differ only in case or in the spaces
-- around them: merge or rename those users first. MySQL commits DDL at
-- once, so the UPDATE may stay applied then; running Up again is safe.

-- +goose Up
-- No WHERE: utf8mb4_bin pads with spaces, so email <> TRIM(email) is false
-- for trailing spaces. Rows already normalised are not written.
UPDATE users SET email = LOWER(TRIM(email));
ALTER TABLE users
    ADD COLUMN email_lower VARCHAR(100) GENERATED ALWAYS AS (LOWER(email)) STORED INVISIBLE,
    ADD UNIQUE KEY users_email_lower_key (email_lower);

-- +goose Down
-- The emails stay normalised: their former case is not kept.
ALTER TABLE users DROP COLUMN email_lower;
