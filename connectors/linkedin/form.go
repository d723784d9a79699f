package linkedin

import (
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// versionedFormRE matches urn:li:versionedLeadGenForm:(urn:li:leadGenForm:{id},{version}).
var versionedFormRE = regexp.MustCompile(`^urn:li:versionedLeadGenForm:\(urn:li:leadGenForm:([0-9]{1,20}),([0-9]{1,20})\)$`)

type formRef struct {
	URN     string // versioned form URN, the cache key
	ID      string
	Version string
}

func parseFormURN(s string) (formRef, bool) {
	m := versionedFormRE.FindStringSubmatch(s)
	if m == nil {
		return formRef{}, false
	}
	return formRef{URN: s, ID: m[1], Version: m[2]}, true
}

// path expands settings.form_path for this form.
func (f formRef) path(tmpl string) string {
	return strings.NewReplacer(
		"{form_id}", f.ID,
		"{version}", f.Version,
		"{form_urn}", restliEscape("urn:li:leadGenForm:"+f.ID),
		"{versioned_form_urn}", restliEscape(f.URN),
	).Replace(tmpl)
}

// restliEscape escapes a key for a Rest.li 2.0 URL path segment, where
// URN colons and parentheses must be percent-encoded.
func restliEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// leadFormDoc is the part of a /rest/leadForms response we read.
type leadFormDoc struct {
	ID             json.Number `json:"id"`
	VersionID      json.Number `json:"versionId"`
	CreationLocale struct {
		Country  string `json:"country"`
		Language string `json:"language"`
	} `json:"creationLocale"`
	HiddenFields []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"hiddenFields"`
	Content struct {
		Questions []struct {
			QuestionID      json.Number `json:"questionId"`
			Name            string      `json:"name"`
			PredefinedField string      `json:"predefinedField"`
			QuestionDetails struct {
				MultipleChoice *struct {
					Options []struct {
						ID   json.Number `json:"id"`
						Text struct {
							Localized map[string]string `json:"localized"`
						} `json:"text"`
					} `json:"options"`
				} `json:"multipleChoiceQuestionDetails"`
			} `json:"questionDetails"`
		} `json:"questions"`
	} `json:"content"`
}

// form is a lead form version compiled for labelling answers.
type form struct {
	// keys maps questionId to the Fields key of its answer.
	keys map[string]string
	// options maps questionId → option id → option text.
	options map[string]map[string]string
	hidden  map[string]string
}

// compileForm indexes a form document. customKey is settings.custom_question_key.
func compileForm(doc leadFormDoc, customKey string) *form {
	f := &form{keys: map[string]string{}, options: map[string]map[string]string{}, hidden: map[string]string{}}
	locale := doc.CreationLocale.Language + "_" + doc.CreationLocale.Country
	used := map[string]bool{}
	for _, q := range doc.Content.Questions {
		qid := q.QuestionID.String()
		if qid == "" {
			continue
		}
		key := customQuestionKey(qid)
		switch {
		case q.PredefinedField != "":
			key = q.PredefinedField
		case customKey == "name" && q.Name != "" && !used["question."+q.Name]:
			key = "question." + q.Name
		}
		used[key] = true
		f.keys[qid] = key
		if mc := q.QuestionDetails.MultipleChoice; mc != nil {
			opts := map[string]string{}
			for _, o := range mc.Options {
				if text := localized(o.Text.Localized, locale); text != "" {
					opts[o.ID.String()] = text
				}
			}
			f.options[qid] = opts
		}
	}
	for _, h := range doc.HiddenFields {
		if h.Name != "" {
			f.hidden["hidden."+h.Name] = h.Value
		}
	}
	return f
}

func customQuestionKey(qid string) string { return "question." + qid }

// localized picks the text in the form's own locale, else the first by
// locale name so the choice is stable.
func localized(m map[string]string, locale string) string {
	if s, ok := m[locale]; ok {
		return s
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return m[keys[0]]
}

// formCache keeps compiled form versions. A versioned form never changes,
// so entries never expire; when full the oldest entry is dropped.
type formCache struct {
	mu    sync.Mutex
	max   int
	byURN map[string]*form
	order []string
}

func newFormCache(max int) *formCache {
	return &formCache{max: max, byURN: map[string]*form{}}
}

func (c *formCache) get(urn string) (*form, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.byURN[urn]
	return f, ok
}

func (c *formCache) put(urn string, f *form) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byURN[urn]; ok {
		c.byURN[urn] = f
		return
	}
	for len(c.order) >= c.max {
		delete(c.byURN, c.order[0])
		c.order = c.order[1:]
	}
	c.byURN[urn] = f
	c.order = append(c.order, urn)
}

func (c *formCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byURN)
}
