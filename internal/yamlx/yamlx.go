// Package yamlx decodes operator-written YAML strictly and reports every
// problem at once, each with file, line, key and a fix.
//
// Strictness matters because a mistyped key in a consent gateway's config
// is silently ignored by a lenient decoder, and the operator believes a
// rule is in force that is not. Messages never echo scalar values: a value
// in the wrong place may be a secret.
package yamlx

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a file.
type Problem struct {
	File string
	Line int
	Key  string // dotted path, e.g. kafka.brokers[0]
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is an error listing every problem, one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns nil when there are no problems, so callers can return it.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
	return ps
}

// AsProblems flattens err into problems; a non-Problems error becomes one
// problem for file.
func AsProblems(file string, err error) Problems {
	if err == nil {
		return nil
	}
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	return Problems{{File: file, Msg: err.Error()}}
}

// Parse reads YAML text into a node tree. An empty document is an error:
// an empty config file is almost always a wrong path.
func Parse(file string, data []byte) (*yaml.Node, Problems) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Problems{{File: file, Line: syntaxLine(err), Msg: "not valid YAML: " + scrub(err.Error())}}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, Problems{{File: file, Msg: "the file is empty; it must hold a YAML mapping"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Problems{{File: file, Line: root.Line, Msg: "the top level must be a mapping of keys to values"}}
	}
	return root, nil
}

var lineRe = regexp.MustCompile(`line (\d+)`)

func syntaxLine(err error) int {
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

var backticks = regexp.MustCompile("`[^`]*`")

// scrub removes quoted values from decoder messages: they may be secrets.
func scrub(s string) string { return backticks.ReplaceAllString(s, "a value") }

var (
	nodeType     = reflect.TypeOf(yaml.Node{})
	durationType = reflect.TypeOf(time.Duration(0))
)

// Decode decodes node into out (a pointer to a struct pre-filled with
// defaults), rejecting unknown keys, then validates out with validator
// tags. prefix is prepended to every key (e.g. "settings").
func Decode(file string, node *yaml.Node, out any, prefix string) Problems {
	var ps Problems
	lines := map[string]int{}
	checkKeys(file, node, reflect.TypeOf(out).Elem(), prefix, lines, &ps)
	if err := node.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				line := syntaxLine(errors.New(e))
				ps = append(ps, Problem{File: file, Line: line, Key: keyAtLine(lines, line), Msg: typeMsg(e)})
			}
		} else {
			ps = append(ps, Problem{File: file, Line: node.Line, Key: prefix, Msg: scrub(err.Error())})
		}
	}
	// Validate what did decode too, so one run reports everything; keys
	// that already have a problem are not reported twice.
	bad := map[int]bool{}
	for _, p := range ps {
		bad[p.Line] = true
	}
	for _, p := range Validate(file, out, prefix, lines) {
		if p.Line == 0 || !bad[p.Line] {
			ps = append(ps, p)
		}
	}
	return ps
}

// cannotRe matches yaml.v3's type errors. The value between the tag and
// "into" is there only for scalars: for a list or a mapping the message is
// "cannot unmarshal !!seq into int".
var cannotRe = regexp.MustCompile(`cannot unmarshal !!(\w+)(?: .*)? into (\S+)`)

// leadingLineRe is the "line N: " yaml.v3 puts before each type error; the
// problem carries the line already.
var leadingLineRe = regexp.MustCompile(`^line \d+: `)

func typeMsg(e string) string {
	if m := cannotRe.FindStringSubmatch(e); m != nil {
		return fmt.Sprintf("wrong type: got %s, want %s", yamlKind(m[1]), goKind(m[2]))
	}
	return scrub(leadingLineRe.ReplaceAllString(e, ""))
}

// yamlKind names what a YAML tag holds, with its article.
func yamlKind(tag string) string {
	switch tag {
	case "str":
		return "a string"
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "int":
		return "a whole number"
	case "float":
		return "a decimal number"
	case "bool":
		return "true or false"
	case "null":
		return "nothing (null)"
	case "timestamp":
		return "a date or time"
	case "binary":
		return "binary data"
	}
	return "a value tagged !!" + tag
}

// goKind names what a Go type wants, with its article.
func goKind(t string) string {
	t = strings.TrimLeft(t, "*")
	switch {
	case t == "time.Duration":
		return `a duration such as "5s" or "168h"`
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "interface"):
		return "a value"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	}
	return "a mapping"
}

// checkKeys walks node against t, reporting keys t has no field for and
// recording the line of every key path for later validation messages.
func checkKeys(file string, node *yaml.Node, t reflect.Type, path string, lines map[string]int, ps *Problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node == nil || t == nodeType {
		return
	}
	if node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return // the decoder reports the type error
		}
		dropDuplicates(file, node, path, ps)
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			p := join(path, k.Value)
			lines[p] = k.Line
			ft, ok := fields[k.Value]
			if !ok {
				*ps = append(*ps, Problem{File: file, Line: k.Line, Key: p,
					Msg: fmt.Sprintf("unknown key; allowed here: %s%s", strings.Join(sortedKeys(fields), ", "), suggest(k.Value, fields))})
				continue
			}
			checkKeys(file, v, ft, p, lines, ps)
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return
		}
		dropDuplicates(file, node, path, ps)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			p := join(path, k.Value)
			lines[p] = k.Line
			checkKeys(file, v, t.Elem(), p, lines, ps)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// yaml.v3 truncates 1.5 to 1 without a word; a limit the operator
		// did not write must not take effect.
		// (It refuses them for a time.Duration itself.)
		if node.Kind == yaml.ScalarNode && node.ShortTag() == "!!float" && t != durationType {
			if f, err := strconv.ParseFloat(node.Value, 64); err == nil && f != math.Trunc(f) {
				*ps = append(*ps, Problem{File: file, Line: node.Line, Key: path, Msg: "wrong type: got a decimal number, want a whole number"})
			}
		}
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			return
		}
		for i, v := range node.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			lines[p] = v.Line
			checkKeys(file, v, t.Elem(), p, lines, ps)
		}
	}
}

// dropDuplicates reports every key written twice in the mapping node and
// removes the later copies, keeping the first. yaml.v3 refuses a mapping
// with a duplicate key as a whole, which left every key in it at its zero
// value: a false "is required" for keys the file does set. Without the
// copies the rest of the mapping decodes and is checked as usual.
func dropDuplicates(file string, node *yaml.Node, path string, ps *Problems) {
	first := map[string]int{}
	kept := node.Content[:0:0]
	for i := 0; i+1 < len(node.Content); i += 2 {
		k := node.Content[i]
		if k.Kind == yaml.ScalarNode {
			if l, dup := first[k.Value]; dup {
				*ps = append(*ps, Problem{File: file, Line: k.Line, Key: join(path, k.Value),
					Msg: fmt.Sprintf("defined twice (first at line %d); keep one", l)})
				continue
			}
			first[k.Value] = k.Line
		}
		kept = append(kept, k, node.Content[i+1])
	}
	if len(kept) != len(node.Content) {
		node.Content = kept
	}
}

// keyAtLine finds the deepest key path written on line.
func keyAtLine(lines map[string]int, line int) string {
	best := ""
	for k, l := range lines {
		if l == line && len(k) > len(best) {
			best = k
		}
	}
	return best
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// suggest names the closest allowed key when the typo is small.
func suggest[V any](key string, allowed map[string]V) string {
	best, bestD := "", 3
	for k := range allowed {
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(` (did you mean "%s"?)`, best)
}

// distance is the Levenshtein distance, enough for typo suggestions.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Suggest is exported for semantic checks elsewhere (unknown purpose, …).
func Suggest(key string, allowed []string) string {
	m := make(map[string]struct{}, len(allowed))
	for _, a := range allowed {
		m[a] = struct{}{}
	}
	return suggest(key, m)
}
