// Package jsonstrict checks what encoding/json lets through: invalid UTF-8
// (replaced by U+FFFD, so a garbled value is taken for another) and an
// object key given twice (the last one silently wins). Bodies that carry
// evidence or decide who a subject is must be unambiguous.
package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"unicode/utf8"
)

// Check reports the first problem of data as an error naming its byte
// offset and, for a duplicate key, the object's path (keys are not
// quoted: they may be personal data). It does not validate the syntax
// beyond what it needs to walk; the caller's decoder reports the rest.
func Check(data []byte) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("the body is not valid UTF-8 text: send it encoded as UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		expect bool // object: the next token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // syntax: left to the caller's decoder
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expect {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].expect = true // the object was a value
				}
				continue
			}
			key, _ := tok.(string)
			if top.keys[key] {
				return fmt.Errorf("an object key is given twice (before byte %d): send each key once", dec.InputOffset())
			}
			top.keys[key] = true
			top.expect = false
			continue
		}
		switch d, _ := tok.(json.Delim); d {
		case '{':
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, expect: true})
			continue
		case '[':
			stack = append(stack, &frame{})
			continue
		case '}', ']':
			stack = stack[:len(stack)-1]
		}
		// A value ended: in an object the next token is a key again.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].expect = true
		}
	}
}

// Kind names the JSON value a Go value of kind k is decoded from
// ("string", "number", "boolean", "object", "array"), for messages that
// say what a field must hold.
func Kind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Struct, reflect.Map, reflect.Pointer, reflect.Interface:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "number"
}
