-- +goose Up
CREATE TABLE tags (id BIGSERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL);

-- +goose Down
DROP TABLE tags;
