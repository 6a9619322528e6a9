package main

import (
	"encoding/base64"
	"path"
	"sort"
	"strings"
)

// Files is .Files: the chart's non-template files, with Helm's accessors.
type Files map[string][]byte

func newFiles(m map[string][]byte) Files { return Files(m) }

func (f Files) GetBytes(name string) []byte { return f[name] }

func (f Files) Get(name string) string { return string(f[name]) }

// Glob returns the files whose relative path matches pattern ("dashboards/*.json"); "**" matches
// any number of path segments.
func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if globMatch(pattern, name) {
			out[name] = data
		}
	}
	return out
}

func (f Files) Lines(name string) []string {
	s := string(f[name])
	if s == "" {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func (f Files) sortedNames() []string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AsConfig renders the files as a ConfigMap data block (keys are base names).
func (f Files) AsConfig() string {
	m := map[string]string{}
	for _, n := range f.sortedNames() {
		m[path.Base(n)] = string(f[n])
	}
	if len(m) == 0 {
		return ""
	}
	return toYAML(m)
}

// AsSecrets renders the files as a Secret data block, base64-encoded.
func (f Files) AsSecrets() string {
	m := map[string]string{}
	for _, n := range f.sortedNames() {
		m[path.Base(n)] = base64.StdEncoding.EncodeToString(f[n])
	}
	if len(m) == 0 {
		return ""
	}
	return toYAML(m)
}

func globMatch(pattern, name string) bool {
	ps := strings.Split(pattern, "/")
	ns := strings.Split(name, "/")
	return matchSegments(ps, ns)
}

func matchSegments(ps, ns []string) bool {
	if len(ps) == 0 {
		return len(ns) == 0
	}
	if ps[0] == "**" {
		for i := 0; i <= len(ns); i++ {
			if matchSegments(ps[1:], ns[i:]) {
				return true
			}
		}
		return false
	}
	if len(ns) == 0 {
		return false
	}
	if ok, _ := path.Match(ps[0], ns[0]); !ok {
		return false
	}
	return matchSegments(ps[1:], ns[1:])
}
