package policy

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The file as written, before semantic checks. Tags drive the structural
// validation (validate.go); the walk below fills it from the YAML node tree
// so every key keeps its line.
type rawPolicy struct {
	Version       string                  `yaml:"version" validate:"required"`
	Purposes      map[string]*rawPurpose  `yaml:"purposes" validate:"required,min=1,dive,keys,purpose_name,endkeys"`
	Categories    map[string]*rawCategory `yaml:"categories" validate:"required,min=1,dive,keys,category_name,endkeys"`
	Jurisdictions rawJurisdictions        `yaml:"jurisdictions"`

	purposeOrder, categoryOrder []string
}

type rawPurpose struct {
	Description string `yaml:"description"`
	Validity    string `yaml:"validity"`
}

type rawCategory struct {
	Fields    []string `yaml:"fields" validate:"required,min=1,dive,field_name"`
	Purposes  []string `yaml:"purposes" validate:"dive,required"`
	Otherwise string   `yaml:"otherwise" validate:"required,oneof=redact hash mask drop_record"`
}

type rawJurisdictions struct {
	Default string   `yaml:"default" validate:"required,oneof=opt_in opt_out"`
	OptOut  []string `yaml:"opt_out"`
	OptIn   []string `yaml:"opt_in"`
}

var (
	topKeys          = []string{"version", "purposes", "categories", "jurisdictions"}
	purposeKeys      = []string{"description", "validity"}
	categoryKeys     = []string{"fields", "purposes", "otherwise"}
	jurisdictionKeys = []string{"default", "opt_out", "opt_in"}
)

// Load reads and validates the policy file at path.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return Parse(path, data)
}

// Parse validates a policy read from name. On failure the error is
// Problems, listing every problem found.
func Parse(name string, data []byte) (*Policy, error) {
	c := &collector{file: name, lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		c.errorAt(yamlErrorLine(err), "", "not valid YAML: %s", strings.TrimPrefix(yamlErrorText(err), "yaml: "))
		return nil, Problems(c.problems)
	}
	if len(doc.Content) == 0 {
		c.errorf("", "file is empty; start from configs/policy.yaml")
		return nil, Problems(c.problems)
	}
	raw := c.readPolicy(doc.Content[0])
	c.validateStruct(raw)
	p := c.build(raw)
	if len(c.problems) > 0 {
		sortProblems(c.problems)
		return nil, Problems(c.problems)
	}
	sortProblems(c.warnings)
	for _, w := range c.warnings {
		p.warnings = append(p.warnings, w.String())
	}
	return p, nil
}

var yamlLine = regexp.MustCompile(`line (\d+):? ?`)

func yamlErrorLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func yamlErrorText(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return te.Errors[0]
	}
	return yamlLine.ReplaceAllString(err.Error(), "")
}

func (c *collector) readPolicy(root *yaml.Node) *rawPolicy {
	raw := &rawPolicy{}
	c.mapping(root, "", topKeys, func(k string, v *yaml.Node) {
		switch k {
		case "version":
			raw.Version = c.scalar(v, "version")
		case "purposes":
			raw.Purposes = map[string]*rawPurpose{}
			c.mapping(v, "purposes", nil, func(name string, pv *yaml.Node) {
				key := "purposes." + name
				rp := &rawPurpose{}
				raw.Purposes[name] = rp
				raw.purposeOrder = append(raw.purposeOrder, name)
				c.mapping(pv, key, purposeKeys, func(k string, v *yaml.Node) {
					switch k {
					case "description":
						rp.Description = c.scalar(v, key+".description")
					case "validity":
						rp.Validity = c.scalar(v, key+".validity")
					}
				})
			})
		case "categories":
			raw.Categories = map[string]*rawCategory{}
			c.mapping(v, "categories", nil, func(name string, cv *yaml.Node) {
				key := "categories." + name
				rc := &rawCategory{}
				raw.Categories[name] = rc
				raw.categoryOrder = append(raw.categoryOrder, name)
				c.mapping(cv, key, categoryKeys, func(k string, v *yaml.Node) {
					switch k {
					case "fields":
						rc.Fields = c.list(v, key+".fields")
					case "purposes":
						rc.Purposes = c.list(v, key+".purposes")
					case "otherwise":
						rc.Otherwise = c.scalar(v, key+".otherwise")
					}
				})
			})
		case "jurisdictions":
			j := &raw.Jurisdictions
			c.mapping(v, "jurisdictions", jurisdictionKeys, func(k string, v *yaml.Node) {
				switch k {
				case "default":
					j.Default = c.scalar(v, "jurisdictions.default")
				case "opt_out":
					j.OptOut = c.list(v, "jurisdictions.opt_out")
				case "opt_in":
					j.OptIn = c.list(v, "jurisdictions.opt_in")
				}
			})
		}
	})
	return raw
}

// deref follows YAML aliases. The policy schema has a fixed depth and the
// walk is driven by it, so even a self-referencing anchor cannot loop.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// mapping walks a YAML mapping, recording each key's line, refusing
// duplicate, merge and (when allowed is not nil) unknown keys.
func (c *collector) mapping(n *yaml.Node, key string, allowed []string, each func(k string, v *yaml.Node)) {
	n = deref(n)
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		c.wrongShape(n.Line, key, "must be a mapping of keys to values, not %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		k := kn.Value
		sub := k
		if key != "" {
			sub = key + "." + k
		}
		switch {
		case kn.Tag == "!!merge":
			c.errorAt(kn.Line, key, "merge keys (<<) are not supported; write the keys out")
			continue
		case seen[k] > 0:
			c.errorAt(kn.Line, sub, "defined twice (first at line %d); keep one", seen[k])
			continue
		case allowed != nil && !contains(allowed, k):
			c.errorAt(kn.Line, sub, "unknown key %q; allowed keys: %s%s", k, strings.Join(allowed, ", "), didYouMean(k, allowed))
			continue
		}
		seen[k] = kn.Line
		c.lines[sub] = kn.Line
		each(k, vn)
	}
}

func (c *collector) scalar(n *yaml.Node, key string) string {
	n = deref(n)
	if isNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		c.wrongShape(n.Line, key, "must be a single value, not %s", kindName(n))
		return ""
	}
	return n.Value
}

func (c *collector) list(n *yaml.Node, key string) []string {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		c.wrongShape(n.Line, key, "must be a list such as [a, b], not %s", kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		ik := fmt.Sprintf("%s[%d]", key, i)
		c.lines[ik] = item.Line
		out = append(out, c.scalar(item, ik))
	}
	return out
}

// wrongShape reports a value of the wrong YAML kind; the struct check then
// stays quiet about the same key, which would only repeat it as "missing".
func (c *collector) wrongShape(line int, key string, format string, args ...any) {
	if c.shapeErr == nil {
		c.shapeErr = map[string]bool{}
	}
	c.shapeErr[key] = true
	c.errorAt(line, key, format, args...)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
