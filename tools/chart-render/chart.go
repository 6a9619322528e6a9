package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Chart is a chart directory loaded into memory.
type Chart struct {
	Dir       string
	Metadata  map[string]interface{}
	Values    map[string]interface{}
	Schema    map[string]interface{}
	Templates map[string]string // path relative to the chart dir ("templates/x.yaml") -> text
	Crds      map[string]string // "crds/x.yaml" -> text
	Files     map[string][]byte // every other file, relative path with forward slashes
}

func (c *Chart) Name() string {
	if n, ok := c.Metadata["name"].(string); ok {
		return n
	}
	return filepath.Base(c.Dir)
}

func loadChart(dir string) (*Chart, error) {
	c := &Chart{Dir: dir, Templates: map[string]string{}, Crds: map[string]string{}, Files: map[string][]byte{}}
	meta, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	if err := yaml.Unmarshal(meta, &c.Metadata); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	for _, key := range []string{"apiVersion", "name", "version"} {
		if s, _ := c.Metadata[key].(string); s == "" {
			return nil, fmt.Errorf("Chart.yaml: %s is required", key)
		}
	}
	c.Values = map[string]interface{}{}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.yaml")); err == nil {
		if err := yaml.Unmarshal(raw, &c.Values); err != nil {
			return nil, fmt.Errorf("values.yaml: %w", err)
		}
		if c.Values == nil {
			c.Values = map[string]interface{}{}
		}
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.schema.json")); err == nil {
		if err := yaml.Unmarshal(raw, &c.Schema); err != nil {
			return nil, fmt.Errorf("values.schema.json: %w", err)
		}
	}
	ignore := loadHelmignore(dir)
	err = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignore(rel, info.IsDir()) {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if info.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			c.Templates[rel] = string(data)
		case strings.HasPrefix(rel, "crds/"):
			c.Crds[rel] = string(data)
			c.Files[rel] = data
		case rel == "Chart.yaml" || rel == "values.yaml" || rel == "values.schema.json":
		default:
			c.Files[rel] = data
		}
		return nil
	})
	return c, err
}

// loadHelmignore understands the simple .helmignore lines (globs on a name or a relative path,
// a trailing slash for directories, # comments); negations are not supported and are rejected.
func loadHelmignore(dir string) func(string, bool) bool {
	raw, err := os.ReadFile(filepath.Join(dir, ".helmignore"))
	patterns := []string{}
	if err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if strings.HasPrefix(line, "!") {
				fail(fmt.Errorf(".helmignore: negated patterns are not supported by chart-render: %q", line))
			}
			patterns = append(patterns, line)
		}
	}
	return func(rel string, isDir bool) bool {
		if rel == ".helmignore" {
			return true
		}
		base := filepath.Base(rel)
		for _, p := range patterns {
			dirOnly := strings.HasSuffix(p, "/")
			p = strings.TrimSuffix(p, "/")
			if dirOnly && !isDir {
				continue
			}
			if ok, _ := filepath.Match(p, base); ok {
				return true
			}
			if ok, _ := filepath.Match(p, rel); ok {
				return true
			}
		}
		return false
	}
}

func mergeValueFiles(base map[string]interface{}, files []string) (map[string]interface{}, error) {
	values := deepCopy(base).(map[string]interface{})
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var overlay map[string]interface{}
		if err := yaml.Unmarshal(raw, &overlay); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		values = coalesce(overlay, values)
	}
	return values, nil
}

// coalesce merges src over dst as Helm does: maps merge key by key, anything else replaces, and
// an explicit null removes the key.
func coalesce(src, dst map[string]interface{}) map[string]interface{} {
	if dst == nil {
		dst = map[string]interface{}{}
	}
	keys := make([]string, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := src[k]
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			dst[k] = coalesce(sm, dm)
		} else {
			dst[k] = deepCopy(v)
		}
	}
	return dst
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []interface{}:
		l := make([]interface{}, len(t))
		for i, x := range t {
			l[i] = deepCopy(x)
		}
		return l
	default:
		return v
	}
}
