package adminapi_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/consentgate/consentgate/internal/adminapi"
)

type openAPIDoc struct {
	Paths      map[string]map[string]any `yaml:"paths"`
	Components map[string]any            `yaml:"components"`
}

func loadOpenAPI(t *testing.T) (openAPIDoc, map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	return doc, tree
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// TestOpenAPIMatchesRouter: docs/openapi.yaml and the router list the same
// routes (method and path), with the same roles in x-roles.
func TestOpenAPIMatchesRouter(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	spec := map[string][]string{}
	for path, item := range doc.Paths {
		ginPath := pathParam.ReplaceAllString(path, ":$1")
		for method, op := range item {
			if !slices.Contains(httpMethods, method) {
				continue // parameters, summary, …
			}
			var roles []string
			if m, ok := op.(map[string]any); ok {
				if rs, ok := m["x-roles"].([]any); ok {
					for _, r := range rs {
						roles = append(roles, r.(string))
					}
				} else {
					t.Errorf("%s %s: no x-roles", strings.ToUpper(method), path)
				}
			}
			slices.Sort(roles)
			spec[strings.ToUpper(method)+" "+ginPath] = roles
		}
	}
	router := map[string][]string{}
	for _, rt := range adminapi.Routes() {
		roles := []string{}
		for _, r := range rt.Roles {
			roles = append(roles, string(r))
		}
		slices.Sort(roles)
		router[rt.Method+" "+rt.Path] = roles
	}
	for route, roles := range router {
		specRoles, ok := spec[route]
		if !ok {
			t.Errorf("route %s is served but not in docs/openapi.yaml", route)
			continue
		}
		if !slices.Equal(roles, specRoles) && !(len(roles) == 0 && len(specRoles) == 0) {
			t.Errorf("route %s: router roles %v, x-roles %v", route, roles, specRoles)
		}
	}
	for route := range spec {
		if _, ok := router[route]; !ok {
			t.Errorf("docs/openapi.yaml describes %s, which the router does not serve", route)
		}
	}
}

// TestOpenAPIRefsResolve: every $ref points at a component that exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	_, tree := loadOpenAPI(t)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				var cur any = tree
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, _ := cur.(map[string]any)
					cur = m[part]
				}
				if cur == nil {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(tree)
}
