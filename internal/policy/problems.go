package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/consentgate/consentgate/internal/yamlx"
)

// Problem is one thing wrong with a policy file, in the same shape as
// every other config problem (file:line: key: message). Msg never contains
// values other than names from the file itself.
type Problem = yamlx.Problem

// Problems is every error found in one policy file; a policy with any
// problem is refused as a whole, and all are reported at once so an
// operator fixes the file in one pass.
type Problems = yamlx.Problems

func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
}

// collector gathers problems and warnings while a file is read, with the
// line of every key path seen so later checks can point at it.
type collector struct {
	file     string
	lines    map[string]int
	problems []Problem
	warnings []Problem
	shapeErr map[string]bool
}

func (c *collector) line(key string) int {
	if l, ok := c.lines[key]; ok {
		return l
	}
	// Fall back to the nearest parent that has a position.
	for k := key; k != ""; {
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
		if l, ok := c.lines[k]; ok {
			return l
		}
	}
	return 0
}

func (c *collector) errorf(key string, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: c.file, Line: c.line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (c *collector) errorAt(line int, key string, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: c.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (c *collector) warnf(key string, format string, args ...any) {
	c.warnings = append(c.warnings, Problem{File: c.file, Line: c.line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// choices renders a list of allowed names for a message, cut short when
// long so one problem stays one readable line.
func choices(names []string) string {
	const max = 8
	if len(names) > max {
		return strings.Join(names[:max], ", ") + ", …"
	}
	return strings.Join(names, ", ")
}

// didYouMean suggests the closest allowed name for a likely typo.
func didYouMean(got string, names []string) string {
	best, bestD := "", -1
	for _, n := range names {
		d := levenshtein(strings.ToLower(got), strings.ToLower(n))
		if bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	limit := max(2, len(got)/4)
	if bestD < 0 || bestD > limit {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
