package yamlx

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

var (
	validateOnce sync.Once
	validate     *validator.Validate
)

// idRe is what connector ids and similar names look like: they appear in
// URLs, metric labels and topic keys.
var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func validatorInstance() *validator.Validate {
	validateOnce.Do(func() {
		v := validator.New(validator.WithRequiredStructEnabled())
		v.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				return ""
			}
			if name == "" {
				return strings.ToLower(f.Name)
			}
			return name
		})
		_ = v.RegisterValidation("slug", func(fl validator.FieldLevel) bool {
			return idRe.MatchString(fl.Field().String())
		})
		validate = v
	})
	return validate
}

// Validate runs validator tags on v (a struct or pointer to one) and turns
// each failure into a Problem whose key is the YAML path. lines maps paths
// to lines (from Decode); it may be nil.
func Validate(file string, v any, prefix string, lines map[string]int) Problems {
	err := validatorInstance().Struct(v)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return Problems{{File: file, Key: prefix, Msg: err.Error()}}
	}
	var ps Problems
	for _, fe := range verrs {
		ns := fe.Namespace()
		if i := strings.IndexByte(ns, '.'); i >= 0 {
			ns = ns[i+1:]
		} else {
			ns = ""
		}
		key := join(prefix, ns)
		sf, _ := structField(reflect.TypeOf(v), fe.StructNamespace())
		ps = append(ps, Problem{File: file, Line: LineOf(lines, key), Key: key, Msg: tagMsg(fe, sf.Tag)})
	}
	return ps
}

// structField finds the field a validator namespace such as
// "Gateway.Kafka.Brokers[0]" names, starting at t (the namespace's first
// part is t's own name).
func structField(t reflect.Type, ns string) (reflect.StructField, bool) {
	var sf reflect.StructField
	parts := strings.Split(ns, ".")
	for _, part := range parts[1:] {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return sf, false
		}
		name, _, indexed := strings.Cut(part, "[")
		f, ok := t.FieldByName(name)
		if !ok {
			return sf, false
		}
		sf, t = f, f.Type
		if indexed { // an element of a list or map: go on in its type
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			if k := t.Kind(); k == reflect.Slice || k == reflect.Array || k == reflect.Map {
				t = t.Elem()
			}
		}
	}
	return sf, true
}

// LineOf finds the line of key or of its nearest parent that is present.
func LineOf(lines map[string]int, key string) int {
	for k := key; k != ""; {
		if l, ok := lines[k]; ok {
			return l
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// tagMsg words a failed check. Two optional struct tags of the field make
// it specific: fix (how to set a required value, shown when it is missing
// or an empty list) and example (a valid value, shown by format checks).
func tagMsg(fe validator.FieldError, tags reflect.StructTag) string {
	p := fe.Param()
	example := func(def string) string {
		if e := tags.Get("example"); e != "" {
			return e
		}
		return def
	}
	switch fe.Tag() {
	case "required":
		if fix := tags.Get("fix"); fix != "" {
			return "is required; " + fix
		}
		return "is required"
	case "required_without":
		return fmt.Sprintf("is required when %s is not set", p)
	case "excluded_with":
		return fmt.Sprintf("cannot be set together with %s: choose one", strings.ToLower(p))
	case "oneof":
		return fmt.Sprintf("must be one of: %s", strings.ReplaceAll(p, " ", ", "))
	case "min":
		if fe.Kind() == reflect.Slice || fe.Kind() == reflect.Map {
			msg := fmt.Sprintf("needs at least %s entries", p)
			if p == "1" {
				msg = "needs at least 1 entry"
			}
			if fix := tags.Get("fix"); fix != "" {
				msg += "; " + fix
			}
			return msg
		}
		if fe.Kind() == reflect.String {
			return fmt.Sprintf("must be at least %s characters long", p)
		}
		return fmt.Sprintf("must be at least %s", p)
	case "max":
		return fmt.Sprintf("must be at most %s", p)
	case "gt":
		return fmt.Sprintf("must be greater than %s", p)
	case "gte":
		return fmt.Sprintf("must be %s or more", p)
	case "hostname_port":
		return fmt.Sprintf("must be host:port, e.g. %q", example("127.0.0.1:8080"))
	case "url":
		return "must be a URL"
	case "slug":
		return "must be lower-case letters, digits, '-' or '_' (at most 63), starting with a letter or digit"
	case "dive":
		return "has an invalid entry"
	}
	return fmt.Sprintf("fails the %q check", fe.Tag())
}
