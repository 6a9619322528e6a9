package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

type renderOptions struct {
	ReleaseName string
	Namespace   string
	KubeVersion string
	APIVersions []string
}

// APIVersions mirrors Helm's VersionSet: `.Capabilities.APIVersions.Has "group/version"`.
type APIVersions []string

func (v APIVersions) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// KubeVersion mirrors the fields of Helm's .Capabilities.KubeVersion.
type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (k KubeVersion) String() string { return k.Version }

// Capabilities is the minimal .Capabilities Helm offers `helm template` without a cluster.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions APIVersions
	HelmVersion map[string]string
}

var builtinAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1",
	"coordination.k8s.io/v1", "apiextensions.k8s.io/v1", "autoscaling/v2", "storage.k8s.io/v1",
	"scheduling.k8s.io/v1", "discovery.k8s.io/v1", "events.k8s.io/v1",
}

// render executes every template of the chart; the result maps "<chart>/templates/<file>" to text.
// Partials (files whose name starts with "_") are parsed for include but not emitted.
func render(chart *Chart, values map[string]interface{}, opts renderOptions) (map[string]string, error) {
	root := template.New("gotpl")
	root.Option("missingkey=zero")
	funcs := funcMap(root)
	root.Funcs(funcs)

	names := make([]string, 0, len(chart.Templates))
	for name := range chart.Templates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		full := chart.Name() + "/" + name
		if _, err := root.New(full).Parse(chart.Templates[name]); err != nil {
			return nil, fmt.Errorf("parse error in %q: %w", full, err)
		}
	}

	version := strings.TrimPrefix(opts.KubeVersion, "v")
	parts := strings.SplitN(version, ".", 3)
	for len(parts) < 2 {
		parts = append(parts, "0")
	}
	caps := &Capabilities{
		KubeVersion: KubeVersion{Version: "v" + version, Major: parts[0], Minor: parts[1]},
		APIVersions: append(APIVersions{}, append(builtinAPIVersions, opts.APIVersions...)...),
		HelmVersion: map[string]string{"Version": "v3.16.0"},
	}
	chartMeta := map[string]interface{}{}
	for k, v := range chart.Metadata {
		chartMeta[strings.ToUpper(k[:1])+k[1:]] = v
	}
	files := newFiles(chart.Files)

	out := map[string]string{}
	for _, name := range names {
		if strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		full := chart.Name() + "/" + name
		top := map[string]interface{}{
			"Values": values,
			"Release": map[string]interface{}{
				"Name": opts.ReleaseName, "Namespace": opts.Namespace, "Service": "Helm",
				"IsInstall": true, "IsUpgrade": false, "Revision": 1,
			},
			"Chart":        chartMeta,
			"Capabilities": caps,
			"Files":        files,
			"Template":     map[string]interface{}{"Name": full, "BasePath": chart.Name() + "/templates"},
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, full, top); err != nil {
			return nil, cleanError(err)
		}
		out[full] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

// funcMap is sprig's function map less env/expandenv (as in Helm) plus Helm's own functions.
func funcMap(root *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	includeDepth := map[string]int{}
	f["toYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["fromYamlArray"] = fromYAMLArray
	f["toJson"] = toJSON
	f["fromJson"] = fromJSON
	f["fromJsonArray"] = fromJSONArray
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	f["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		if includeDepth[name] > 1000 {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		includeDepth[name]++
		defer func() { includeDepth[name]-- }()
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	return f
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	var a []interface{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	var a []interface{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

// cleanError keeps the message of `required` and `fail` readable, as Helm does.
func cleanError(err error) error {
	msg := err.Error()
	for _, marker := range []string{"error calling required: ", "error calling fail: "} {
		if i := strings.LastIndex(msg, marker); i >= 0 {
			return fmt.Errorf("execution error: %s", msg[i+len(marker):])
		}
	}
	return err
}
