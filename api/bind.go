package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"
	"github.com/go-playground/validator/v10"
)

// BindJSON decodes the request's JSON body into dst, a pointer to a struct,
// strictly, and validates it with gin's `binding` tags (go-playground
// validator). Every failure is an *Error for the client:
//
//	415 the content type is not JSON
//	413 the body is over the limit (see BodyLimit)
//	400 empty or malformed JSON, invalid UTF-8, an unknown field, trailing data,
//	    a JSON value of the wrong kind (an array for an object)
//	422 a value of the wrong type, or a field that fails validation (each listed)
func BindJSON(c *gin.Context, dst any) error {
	if ct := strings.ToLower(c.ContentType()); ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		return NewError(http.StatusUnsupportedMediaType, "the body must be application/json")
	}
	if c.Request.Body == nil {
		return NewError(http.StatusBadRequest, "the body is empty")
	}
	body, err := readBody(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Detail: "the request body is too large", Err: err}
		}
		return &Error{Status: http.StatusBadRequest, Detail: "the body could not be read", Err: err}
	}
	if !utf8.Valid(body) {
		return NewError(http.StatusBadRequest, "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, dst)
	}
	if rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return NewError(http.StatusBadRequest, "the body holds data after its JSON value")
	}
	if err := binding.Validator.ValidateStruct(dst); err != nil {
		var ve validator.ValidationErrors
		if errors.As(err, &ve) {
			return &Error{Status: http.StatusUnprocessableEntity, Detail: "the request has invalid fields", Fields: fieldErrors(ve, dst), Err: err}
		}
		return &Error{Status: http.StatusUnprocessableEntity, Detail: "the request is invalid", Err: err}
	}
	return nil
}

// readBody reads what is left of body: a body kept for a retry is in
// memory already, and is not copied again.
func readBody(body io.Reader) ([]byte, error) {
	if b, ok := body.(*replayBody); ok {
		return b.rest(), nil
	}
	return io.ReadAll(body)
}

// decodeError maps an encoding/json error to the client's error.
func decodeError(err error, dst any) error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return NewError(http.StatusBadRequest, "the body is empty")
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return &Error{Status: http.StatusBadRequest, Detail: "the body must be a JSON " + jsonKind(reflect.TypeOf(dst).Elem()), Err: err}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		return &Error{Status: http.StatusUnprocessableEntity, Detail: "the request has invalid fields", Err: err,
			Fields: []FieldError{{Field: field, Message: "must be " + article(jsonKind(typeErr.Type))}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return &Error{Status: http.StatusBadRequest, Detail: "unknown field " + name, Err: err}
	default:
		return &Error{Status: http.StatusBadRequest, Detail: "the body is not well-formed JSON", Err: err}
	}
}

// fieldErrors lists validation failures by their JSON field names.
func fieldErrors(ve validator.ValidationErrors, dst any) []FieldError {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := make([]FieldError, 0, len(ve))
	for _, fe := range ve {
		name := fe.Field()
		if f, ok := t.FieldByName(fe.StructField()); ok {
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
				name = tag
			}
		}
		out = append(out, FieldError{Field: name, Message: validationMessage(fe)})
	}
	return out
}

func validationMessage(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "email":
		return "must be a valid email address"
	case "max":
		return fmt.Sprintf("must be at most %s characters", fe.Param())
	case "min":
		return fmt.Sprintf("must be at least %s characters", fe.Param())
	default:
		return "fails the " + fe.Tag() + " rule"
	}
}

// jsonKind names the JSON kind of a Go type.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

func article(kind string) string {
	if kind == "array" || kind == "object" {
		return "an " + kind
	}
	return "a " + kind
}
