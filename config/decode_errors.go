package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
)

// decodeProblems turns the decoder's joined errors into one Problem per
// failure, e.g. {issuers[0], unknown key "endpoint"}.
func decodeProblems(err error) []Problem {
	var problems []Problem
	var walk func(error)
	walk = func(err error) {
		var de *mapstructure.DecodeError
		switch e := err.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
			return
		case *mapstructure.DecodeError:
			de = e
		default:
			if inner := errors.Unwrap(err); inner != nil {
				walk(inner)
				return
			}
			problems = append(problems, Problem{Msg: err.Error()})
			return
		}
		problems = append(problems, decodeErrorProblems(de)...)
	}
	walk(err)
	return problems
}

const unknownKeyMsg = "unknown key "

func onlyUnknownKeys(problems []Problem) bool {
	for _, p := range problems {
		if !strings.HasPrefix(p.Msg, unknownKeyMsg) {
			return false
		}
	}
	return true
}

func decodeErrorProblems(de *mapstructure.DecodeError) []Problem {
	where := de.Name()
	inner := de.Unwrap()
	if keys, ok := strings.CutPrefix(inner.Error(), "has invalid keys: "); ok {
		var problems []Problem
		for _, key := range strings.Split(keys, ", ") {
			problems = append(problems, Problem{Where: where, Msg: unknownKeyMsg + strconv.Quote(key)})
		}
		return problems
	}
	var ute *mapstructure.UnconvertibleTypeError
	if errors.As(inner, &ute) {
		return []Problem{{Where: where, Msg: fmt.Sprintf("expected %s, got %s", kindName(ute.Expected.Type()), kindName(reflect.TypeOf(ute.Value)))}}
	}
	var pe *mapstructure.ParseError
	if errors.As(inner, &pe) {
		return []Problem{{Where: where, Msg: fmt.Sprintf("expected %s", kindName(pe.Expected.Type()))}}
	}
	if _, got, ok := strings.Cut(inner.Error(), "expected a map or struct, got "); ok {
		return []Problem{{Where: where, Msg: "expected a mapping, got " + strings.Trim(got, `"`)}}
	}
	return []Problem{{Where: where, Msg: inner.Error()}}
}

// kindName names a type as a YAML user thinks of it.
func kindName(t reflect.Type) string {
	if t == nil {
		return "nothing"
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}
