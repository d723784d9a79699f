package policy

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

var (
	snakeName  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	dottedName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

	validateOnce sync.Once
	structCheck  *validator.Validate
)

func structValidator() *validator.Validate {
	validateOnce.Do(func() {
		v := validator.New(validator.WithRequiredStructEnabled())
		v.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			return name
		})
		match := func(re *regexp.Regexp) validator.Func {
			return func(fl validator.FieldLevel) bool { return re.MatchString(fl.Field().String()) }
		}
		_ = v.RegisterValidation("purpose_name", match(snakeName))
		_ = v.RegisterValidation("field_name", match(snakeName))
		_ = v.RegisterValidation("category_name", match(dottedName))
		structCheck = v
	})
	return structCheck
}

// Hints that tell an operator how to fix a missing or empty key.
var requiredHints = map[string]string{
	"version":               `is required; add version: "2026-11-01" (it is echoed in every consent receipt)`,
	"purposes":              "must declare at least one purpose, e.g. marketing_email: {description: \"…\"}",
	"categories":            "must declare at least one category with fields, purposes and otherwise",
	"fields":                "category has no fields; list its canonical fields, e.g. fields: [email]",
	"purposes[]":            "is empty; write a declared purpose name",
	"otherwise":             "is required; set otherwise: to one of redact, hash, mask, drop_record",
	"jurisdictions.default": "is required; set jurisdictions.default: opt_in (strictest) or opt_out",
}

// validateStruct runs the tag checks and turns each failure into a Problem
// at the line of its key.
func (c *collector) validateStruct(raw *rawPolicy) {
	err := structValidator().Struct(raw)
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return
	}
	for _, fe := range verrs {
		key := keyPath(fe.Namespace())
		if c.underShapeError(key) {
			continue
		}
		c.errorf(key, "%s", fieldErrorMessage(key, fe))
	}
}

func (c *collector) underShapeError(key string) bool {
	for k := range c.shapeErr {
		if key == k || strings.HasPrefix(key, k+".") || strings.HasPrefix(key, k+"[") {
			return true
		}
	}
	return false
}

// keyPath turns a validator namespace ("rawPolicy.categories[contact.email].fields[0]")
// into the policy's key syntax ("categories.contact.email.fields[0]").
func keyPath(ns string) string {
	_, ns, _ = strings.Cut(ns, ".")
	var b strings.Builder
	for {
		i := strings.IndexByte(ns, '[')
		if i < 0 {
			b.WriteString(ns)
			return b.String()
		}
		j := closingBracket(ns, i)
		if j < 0 {
			b.WriteString(ns)
			return b.String()
		}
		b.WriteString(ns[:i])
		inner := ns[i+1 : j]
		if strings.Trim(inner, "0123456789") == "" {
			b.WriteString("[" + inner + "]")
		} else {
			b.WriteString("." + inner)
		}
		ns = ns[j+1:]
	}
}

// closingBracket finds the ']' that ends the index opened at ns[i]. A map
// key is written raw and may hold brackets itself, so the end is the ']'
// followed by the end, a '.' or another '['; -1 if there is none.
func closingBracket(ns string, i int) int {
	for j := i + 1; j < len(ns); j++ {
		if ns[j] == ']' && (j+1 == len(ns) || ns[j+1] == '.' || ns[j+1] == '[') {
			return j
		}
	}
	return -1
}

func fieldErrorMessage(key string, fe validator.FieldError) string {
	last := key[strings.LastIndexByte(key, '.')+1:]
	if k := strings.IndexByte(last, '['); k >= 0 && strings.HasSuffix(last, "]") {
		last = last[:k] + "[]"
	}
	switch fe.Tag() {
	case "required", "min":
		if h, ok := requiredHints[key]; ok {
			return h
		}
		if h, ok := requiredHints[last]; ok {
			return h
		}
		return "is required"
	case "oneof":
		got := fmt.Sprint(fe.Value())
		allowed := strings.Fields(fe.Param())
		what := "value"
		switch last {
		case "otherwise":
			what = "action"
		case "default":
			what = "regime"
		}
		return fmt.Sprintf("unknown %s %q; use one of: %s%s", what, got, strings.Join(allowed, ", "), didYouMean(got, allowed))
	case "purpose_name":
		return fmt.Sprintf("%q is not a valid purpose name; use lower_snake_case, e.g. marketing_email", fe.Value())
	case "field_name":
		return fmt.Sprintf("%q is not a canonical field name; use lower_snake_case, e.g. email, platform_user_id", fe.Value())
	case "category_name":
		return fmt.Sprintf("%q is not a valid category name; use lower_snake_case parts joined by dots, e.g. contact.email", fe.Value())
	}
	return fmt.Sprintf("failed check %q", fe.Tag())
}

// build runs the semantic checks that span keys and assembles the Policy.
func (c *collector) build(raw *rawPolicy) *Policy {
	p := &Policy{
		File:       c.file,
		Version:    strings.TrimSpace(raw.Version),
		Purposes:   map[string]Purpose{},
		Categories: map[string]Category{},
		Default:    Regime(raw.Jurisdictions.Default),
		Listed:     map[string]Regime{},
		byField:    map[string]string{},
		byCode:     map[string]Regime{},
	}
	if raw.Version != "" && p.Version == "" {
		c.errorf("version", `is blank; write a version such as "2026-11-01"`)
	}
	for _, name := range raw.purposeOrder {
		rp := raw.Purposes[name]
		pu := Purpose{Name: name, Description: rp.Description}
		if rp.Validity != "" {
			d, err := ParseValidity(rp.Validity)
			if err != nil {
				c.errorf("purposes."+name+".validity", "%q: %v; write a duration such as 730d, 90d or 8760h", rp.Validity, err)
			}
			pu.Validity = d
		}
		p.Purposes[name] = pu
	}
	c.checkCategories(raw, p)
	c.checkJurisdictions(raw, p)
	return p
}

func (c *collector) checkCategories(raw *rawPolicy, p *Policy) {
	declared := slices.Sorted(maps.Keys(raw.Purposes))
	used := map[string]bool{}
	for _, name := range raw.categoryOrder {
		rc := raw.Categories[name]
		key := "categories." + name
		cat := Category{Name: name, Otherwise: Action(rc.Otherwise), Special: isSpecial(name)}
		for i, pu := range rc.Purposes {
			pk := fmt.Sprintf("%s.purposes[%d]", key, i)
			switch {
			case pu == "":
				// reported by the struct check
			case raw.Purposes[pu] == nil:
				c.errorf(pk, "unknown purpose %q; declared purposes are: %s%s", pu, choices(declared), didYouMean(pu, declared))
			case slices.Contains(cat.Purposes, pu):
				c.warnf(pk, "purpose %q listed twice; remove one", pu)
			default:
				cat.Purposes = append(cat.Purposes, pu)
				used[pu] = true
			}
		}
		if len(rc.Purposes) == 0 {
			c.warnf(key, "no purposes: its fields are never kept in clear, only %s", orAction(rc.Otherwise))
		}
		for i, f := range rc.Fields {
			fk := fmt.Sprintf("%s.fields[%d]", key, i)
			if f == "" {
				continue
			}
			if other, ok := p.byField[f]; ok {
				if other == name {
					c.warnf(fk, "field %q listed twice; remove one", f)
				} else {
					c.errorf(fk, "field %q is already in category %q (line %d); put each field in exactly one category", f, other, c.line("categories."+other))
				}
				continue
			}
			p.byField[f] = name
			cat.Fields = append(cat.Fields, f)
		}
		if cat.Special && rc.Otherwise != "" && cat.Otherwise != DropRecord && cat.Otherwise != Redact {
			c.errorf(key+".otherwise", "special-category data must not be forwarded without explicit consent; set otherwise: drop_record or redact, not %q", rc.Otherwise)
		}
		p.Categories[name] = cat
	}
	for _, name := range raw.purposeOrder {
		if !used[name] {
			c.warnf("purposes."+name, "purpose %q is not used by any category; add it to a category's purposes or remove it", name)
		}
	}
}

func orAction(a string) string {
	if a == "" {
		return "the otherwise action"
	}
	return a
}

func (c *collector) checkJurisdictions(raw *rawPolicy, p *Policy) {
	j := raw.Jurisdictions
	where := map[string]string{} // code → key where first listed
	lists := []struct {
		name   string
		codes  []string
		regime Regime
	}{{"opt_in", j.OptIn, OptIn}, {"opt_out", j.OptOut, OptOut}}
	for _, l := range lists {
		for i, code := range l.codes {
			key := fmt.Sprintf("jurisdictions.%s[%d]", l.name, i)
			norm, msg := checkCode(code)
			if msg != "" {
				c.errorf(key, "%s", msg)
				continue
			}
			if first, ok := where[norm]; ok {
				if p.Listed[norm] == l.regime {
					c.warnf(key, "%q listed twice; remove one", norm)
				} else {
					c.errorf(key, "%q is listed in both opt_in and opt_out (also at %s); keep it in one list", norm, first)
				}
				continue
			}
			where[norm] = key
			p.Listed[norm] = l.regime
		}
	}
	// Countries and regions listed by name win over their group, so
	// "EU opt_in, except one member" can be written; two groups that
	// disagree on a member resolve to the strictest.
	for code, r := range p.Listed {
		if _, isGroup := groups[code]; !isGroup {
			p.byCode[code] = r
		}
	}
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		if _, listed := p.Listed[g]; !listed {
			continue
		}
		r := p.Listed[g]
		p.byCode[g] = r
		var conflicts []string
		for _, m := range groups[g] {
			if _, named := p.Listed[m]; named {
				continue
			}
			if prev, ok := p.byCode[m]; ok && prev != r {
				conflicts = append(conflicts, m)
				p.byCode[m] = OptIn
				continue
			}
			p.byCode[m] = r
		}
		if len(conflicts) > 0 {
			c.warnf(where[g], "%s overlaps a group listed with the other regime (%s); the strictest (opt_in) applies there", g, choices(conflicts))
		}
	}
}
