package adminapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/consentgate/consentgate/connectors"
)

// policyRoutes are read-only views of what connectors may refer to: the
// policy's purposes, categories and fields, and the platform kinds with the
// secrets each reads. Editors (console, CLI) offer these as choices.
var policyRoutes = []Route{
	{http.MethodGet, "/policy", readers, func(a *API) gin.HandlerFunc { return a.getPolicy }},
	{http.MethodGet, "/platforms", readers, func(a *API) gin.HandlerFunc { return a.getPlatforms }},
}

type policyPurpose struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// ValidityDays is 0 when a grant does not expire by policy.
	ValidityDays int `json:"validity_days,omitempty"`
}

type policyCategory struct {
	Name      string   `json:"name"`
	Fields    []string `json:"fields"`
	Purposes  []string `json:"purposes"`
	Otherwise string   `json:"otherwise"`
	Special   bool     `json:"special,omitempty"`
}

type policyView struct {
	Version    string           `json:"version"`
	Purposes   []policyPurpose  `json:"purposes"`
	Categories []policyCategory `json:"categories"`
	// Fields maps each canonical field to its category.
	Fields map[string]string `json:"fields"`
}

func (a *API) getPolicy(c *gin.Context) {
	p := a.d.Policy
	if p == nil {
		c.JSON(http.StatusOK, policyView{Purposes: []policyPurpose{}, Categories: []policyCategory{}, Fields: map[string]string{}})
		return
	}
	v := policyView{Version: p.Version, Fields: map[string]string{}}
	for _, name := range p.PurposeNames() {
		pu := p.Purposes[name]
		v.Purposes = append(v.Purposes, policyPurpose{Name: name, Description: pu.Description, ValidityDays: int(pu.Validity.Hours() / 24)})
	}
	for _, name := range p.CategoryNames() {
		cat := p.Categories[name]
		v.Categories = append(v.Categories, policyCategory{
			Name: name, Fields: cat.Fields, Purposes: cat.Purposes, Otherwise: string(cat.Otherwise), Special: cat.Special,
		})
		for _, f := range cat.Fields {
			v.Fields[f] = name
		}
	}
	c.JSON(http.StatusOK, v)
}

type platformView struct {
	Name    string   `json:"name"`
	Secrets []string `json:"secrets"`
}

func (a *API) getPlatforms(c *gin.Context) {
	out := []platformView{}
	for _, name := range connectors.Platforms() {
		f, _ := connectors.Lookup(name)
		out = append(out, platformView{Name: name, Secrets: append([]string{}, f.Secrets...)})
	}
	c.JSON(http.StatusOK, gin.H{"platforms": out})
}
