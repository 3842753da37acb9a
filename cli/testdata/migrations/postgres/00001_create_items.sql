-- +goose Up
CREATE TABLE items (id BIGSERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE);

-- +goose Down
DROP TABLE items;
