package main

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

// validateSchema checks values against a JSON Schema (draft-07 subset: type, required, enum,
// const, properties, additionalProperties, items, minimum, maximum, exclusiveMinimum,
// exclusiveMaximum, minLength, maxLength, minItems, maxItems, pattern, anyOf, oneOf, allOf, $ref to
// "#/definitions/..."). Errors are returned in a stable order, each naming the offending path.
func validateSchema(schema map[string]interface{}, values interface{}) []string {
	v := &validator{root: schema}
	v.check(schema, values, "")
	sort.Strings(v.errs)
	return v.errs
}

type validator struct {
	root map[string]interface{}
	errs []string
}

func (v *validator) errorf(at, format string, args ...interface{}) {
	if at == "" {
		at = "(root)"
	}
	v.errs = append(v.errs, fmt.Sprintf("%s: %s", at, fmt.Sprintf(format, args...)))
}

func child(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func (v *validator) resolve(s map[string]interface{}) map[string]interface{} {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s
	}
	node := interface{}(v.root)
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := node.(map[string]interface{})
		if !ok {
			return map[string]interface{}{}
		}
		node = m[part]
	}
	if m, ok := node.(map[string]interface{}); ok {
		return m
	}
	return map[string]interface{}{}
}

func typeOf(x interface{}) string {
	switch t := x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if t == math.Trunc(t) {
			return "integer"
		}
		return "number"
	case int, int64:
		return "integer"
	case []interface{}:
		return "array"
	case map[string]interface{}:
		return "object"
	}
	return fmt.Sprintf("%T", x)
}

func typeMatches(want, got string) bool {
	return want == got || (want == "number" && got == "integer")
}

func number(x interface{}) (float64, bool) {
	switch t := x.(type) {
	case float64:
		return t, true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	}
	return 0, false
}

func (v *validator) sub(s interface{}, x interface{}) []string {
	m, ok := s.(map[string]interface{})
	if !ok {
		return nil
	}
	inner := &validator{root: v.root}
	inner.check(m, x, "")
	return inner.errs
}

func (v *validator) check(s map[string]interface{}, x interface{}, at string) {
	s = v.resolve(s)
	got := typeOf(x)
	switch t := s["type"].(type) {
	case string:
		if !typeMatches(t, got) {
			v.errorf(at, "Invalid type. Expected: %s, given: %s", t, got)
			return
		}
	case []interface{}:
		ok := false
		names := []string{}
		for _, w := range t {
			ws, _ := w.(string)
			names = append(names, ws)
			ok = ok || typeMatches(ws, got)
		}
		if !ok {
			v.errorf(at, "Invalid type. Expected: %s, given: %s", strings.Join(names, " or "), got)
			return
		}
	}
	if enum, ok := s["enum"].([]interface{}); ok {
		found := false
		for _, e := range enum {
			found = found || reflect.DeepEqual(e, x)
		}
		if !found {
			parts := []string{}
			for _, e := range enum {
				parts = append(parts, fmt.Sprintf("%v", e))
			}
			v.errorf(at, "must be one of the following: %s", strings.Join(parts, ", "))
		}
	}
	if c, ok := s["const"]; ok && !reflect.DeepEqual(c, x) {
		v.errorf(at, "does not match: %v", c)
	}
	if n, ok := number(x); ok {
		if m, ok := number(s["minimum"]); ok && n < m {
			v.errorf(at, "Must be greater than or equal to %v", m)
		}
		if m, ok := number(s["maximum"]); ok && n > m {
			v.errorf(at, "Must be less than or equal to %v", m)
		}
		if m, ok := number(s["exclusiveMinimum"]); ok && n <= m {
			v.errorf(at, "Must be greater than %v", m)
		}
		if m, ok := number(s["exclusiveMaximum"]); ok && n >= m {
			v.errorf(at, "Must be less than %v", m)
		}
	}
	if str, ok := x.(string); ok {
		if p, ok := s["pattern"].(string); ok {
			re, err := regexp.Compile(p)
			if err != nil {
				v.errorf(at, "schema pattern %q does not compile: %v", p, err)
			} else if !re.MatchString(str) {
				v.errorf(at, "Does not match pattern '%s'", p)
			}
		}
		if m, ok := number(s["minLength"]); ok && float64(len([]rune(str))) < m {
			v.errorf(at, "String length must be greater than or equal to %v", m)
		}
		if m, ok := number(s["maxLength"]); ok && float64(len([]rune(str))) > m {
			v.errorf(at, "String length must be less than or equal to %v", m)
		}
	}
	if arr, ok := x.([]interface{}); ok {
		if m, ok := number(s["minItems"]); ok && float64(len(arr)) < m {
			v.errorf(at, "Array must have at least %v items", m)
		}
		if m, ok := number(s["maxItems"]); ok && float64(len(arr)) > m {
			v.errorf(at, "Array must have at most %v items", m)
		}
		if items, ok := s["items"].(map[string]interface{}); ok {
			for i, e := range arr {
				v.check(items, e, fmt.Sprintf("%s[%d]", at, i))
			}
		}
	}
	if obj, ok := x.(map[string]interface{}); ok {
		if req, ok := s["required"].([]interface{}); ok {
			for _, r := range req {
				name, _ := r.(string)
				if _, present := obj[name]; !present {
					v.errorf(at, "%s is required", name)
				}
			}
		}
		props, _ := s["properties"].(map[string]interface{})
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]interface{}); ok {
				v.check(ps, obj[k], child(at, k))
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					v.errorf(at, "Additional property %s is not allowed", k)
				}
			case map[string]interface{}:
				v.check(ap, obj[k], child(at, k))
			}
		}
	}
	if all, ok := s["allOf"].([]interface{}); ok {
		for _, a := range all {
			for _, e := range v.sub(a, x) {
				v.errorf(at, "allOf: %s", e)
			}
		}
	}
	if anyOf, ok := s["anyOf"].([]interface{}); ok {
		matched := false
		for _, a := range anyOf {
			matched = matched || len(v.sub(a, x)) == 0
		}
		if !matched {
			v.errorf(at, "Must validate at least one schema (anyOf)")
		}
	}
	if oneOf, ok := s["oneOf"].([]interface{}); ok {
		n := 0
		for _, a := range oneOf {
			if len(v.sub(a, x)) == 0 {
				n++
			}
		}
		if n != 1 {
			v.errorf(at, "Must validate one and only one schema (oneOf)")
		}
	}
}
