package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// installOrder is Helm's InstallOrder (pkg/releaseutil/kind_sorter.go): kinds not listed come
// last, sorted by name.
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
	"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList",
	"RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
	"ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
	"IngressClass", "Ingress", "APIService",
}

var separator = regexp.MustCompile(`(?m)^---[ \t]*$`)

type manifest struct {
	source string
	kind   string
	name   string
	body   string
}

func splitDocs(text string) []string {
	docs := []string{}
	for _, d := range separator.Split(text, -1) {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, strings.Trim(d, "\n"))
		}
	}
	return docs
}

func parseManifests(source, text string) ([]manifest, error) {
	out := []manifest{}
	for _, doc := range splitDocs(text) {
		var obj map[string]interface{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("YAML parse error on %s: %w\n%s", source, err, doc)
		}
		if obj == nil {
			continue // comments only
		}
		kind, _ := obj["kind"].(string)
		if kind == "" || obj["apiVersion"] == nil {
			return nil, fmt.Errorf("%s: a document has no apiVersion or kind", source)
		}
		name := ""
		if md, ok := obj["metadata"].(map[string]interface{}); ok {
			name, _ = md["name"].(string)
		}
		out = append(out, manifest{source: source, kind: kind, name: name, body: doc})
	}
	return out, nil
}

// assemble splits rendered templates into documents, sorts them in install order and prints them
// as one multi-document stream with Helm's "# Source:" comments.
func assemble(chart *Chart, rendered map[string]string, includeCrds bool) (string, error) {
	var b strings.Builder
	if includeCrds {
		names := make([]string, 0, len(chart.Crds))
		for n := range chart.Crds {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			for _, doc := range splitDocs(chart.Crds[n]) {
				fmt.Fprintf(&b, "---\n# Source: %s/%s\n%s\n", chart.Name(), n, doc)
			}
		}
	}

	sources := make([]string, 0, len(rendered))
	for s := range rendered {
		if strings.HasSuffix(s, "NOTES.txt") {
			continue
		}
		sources = append(sources, s)
	}
	sort.Strings(sources)
	all := []manifest{}
	for _, s := range sources {
		ms, err := parseManifests(s, rendered[s])
		if err != nil {
			return "", err
		}
		all = append(all, ms...)
	}
	rank := map[string]int{}
	for i, k := range installOrder {
		rank[k] = i
	}
	sort.SliceStable(all, func(i, j int) bool {
		ri, iok := rank[all[i].kind]
		rj, jok := rank[all[j].kind]
		switch {
		case iok && jok:
			return ri < rj
		case iok:
			return true
		case jok:
			return false
		default:
			return all[i].kind < all[j].kind
		}
	})
	for _, m := range all {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.source, m.body)
	}
	return b.String(), nil
}
