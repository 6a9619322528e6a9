// Command chart-render renders a Helm chart the way `helm template` does, for tests on machines
// without helm: Go's text/template with sprig (Helm's own engine), the Helm-specific functions
// the comfy-router chart uses, values merged over values.yaml and checked against
// values.schema.json, and the output ordered by kind as Helm installs it.
//
// Build offline from Debian packages (golang-go, golang-github-masterminds-sprig-dev,
// golang-k8s-sigs-yaml-dev) in GOPATH mode:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o chart-render ./tools/chart-render
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var valueFiles, apiVersions stringList
	releaseName := flag.String("release-name", "comfy", "release name (.Release.Name)")
	namespace := flag.String("namespace", "default", "release namespace (.Release.Namespace)")
	includeCrds := flag.Bool("include-crds", false, "emit the chart's crds/ first, as helm template --include-crds does")
	notes := flag.Bool("notes", false, "print the rendered templates/NOTES.txt instead of the manifests")
	kubeVersion := flag.String("kube-version", "v1.30.0", "version reported by .Capabilities.KubeVersion")
	flag.Var(&valueFiles, "f", "values file merged over the chart's values.yaml (repeatable, later wins)")
	flag.Var(&apiVersions, "api-versions", "extra API version available in .Capabilities.APIVersions (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: chart-render [-f values.yaml]... [--release-name NAME] [--namespace NS] [--include-crds] [--notes] CHART_DIR")
		os.Exit(2)
	}

	chart, err := loadChart(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	values, err := mergeValueFiles(chart.Values, valueFiles)
	if err != nil {
		fail(err)
	}
	if chart.Schema != nil {
		if errs := validateSchema(chart.Schema, values); len(errs) > 0 {
			fmt.Fprintln(os.Stderr, "Error: values don't meet the specifications of the schema(s) in the following chart(s):")
			fmt.Fprintf(os.Stderr, "%s:\n", chart.Name())
			for _, e := range errs {
				fmt.Fprintf(os.Stderr, "- %s\n", e)
			}
			os.Exit(3)
		}
	}

	opts := renderOptions{
		ReleaseName: *releaseName,
		Namespace:   *namespace,
		KubeVersion: *kubeVersion,
		APIVersions: apiVersions,
	}
	rendered, err := render(chart, values, opts)
	if err != nil {
		fail(err)
	}
	if *notes {
		fmt.Print(rendered[filepath.ToSlash(filepath.Join(chart.Name(), "templates", "NOTES.txt"))])
		return
	}
	out, err := assemble(chart, rendered, *includeCrds)
	if err != nil {
		fail(err)
	}
	fmt.Print(out)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "Error: %v\n", err)
	os.Exit(1)
}
