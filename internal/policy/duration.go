package policy

import (
	"errors"
	"regexp"
	"strconv"
	"time"
)

var dayUnit = regexp.MustCompile(`(\d+(?:\.\d+)?)d`)

// ParseValidity reads a validity period: a Go duration ("8760h", "90m")
// that may also use a "d" (24h) unit ("730d", "1d12h"), since consent
// lifetimes are stated in days. It must be positive.
func ParseValidity(s string) (time.Duration, error) {
	var bad error
	expanded := dayUnit.ReplaceAllStringFunc(s, func(m string) string {
		days, err := strconv.ParseFloat(m[:len(m)-1], 64)
		if err != nil {
			bad = err
			return m
		}
		return strconv.FormatFloat(days*24, 'f', -1, 64) + "h"
	})
	if bad != nil {
		return 0, errors.New("not a duration")
	}
	d, err := time.ParseDuration(expanded)
	if err != nil {
		return 0, errors.New("not a duration")
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return d, nil
}
