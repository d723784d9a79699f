package sqlstore

import (
	"fmt"
	"strings"
	"time"
)

// completionArrays is a completion without outbox messages as one
// statement whose rows arrive as one array per column (PostgreSQL, where
// Dialect.Array is set). Its text depends only on which parts are present,
// so three statements are ever prepared and planned, where VALUES lists
// made a new statement text, parsed and planned in full, for every batch
// size: planning alone was about a third of a completion's time on the
// server. Completions with outbox messages (Kafka was down) keep VALUES
// lists, which carry a NULL key as NULL.
func (db *DB) completionArrays(c completion) (q string, args []any, err error) {
	var parts []string
	if len(c.seen) > 0 {
		conns, events := make([]string, len(c.seen)), make([]string, len(c.seen))
		for i, r := range c.seen {
			conns[i], events[i] = r[0].(string), r[1].(string)
		}
		args = append(args, db.d.Array(conns), db.d.Array(events), c.seen[0][3])
		n := len(args)
		parts = append(parts, fmt.Sprintf(`INSERT INTO seen_events (connector, event_id, state, claimed_at)
			SELECT k.c, k.e, 'done', $%d FROM unnest($%d::text[], $%d::text[]) AS k(c, e)
			ON CONFLICT (connector, event_id) DO UPDATE SET state = 'done'`, n, n-2, n-1))
	}
	if len(c.decisions) > 0 {
		cols, err := columns(c.decisions, db.d.Array)
		if err != nil {
			return "", nil, fmt.Errorf("decisions: %w", err)
		}
		parts = append(parts, fmt.Sprintf("INSERT INTO decisions (%s) SELECT * FROM unnest(%s)%s",
			decisionCols, casts(len(args), "text", "timestamptz", "text", "text", "text", "text", "text", "text", "text", "text", "text"), decisionUpsert))
		args = append(args, cols...)
	}
	var b strings.Builder
	for i, p := range parts {
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "w%d AS (%s)", i, p)
	}
	b.WriteString(" SELECT 1")
	return b.String(), args, nil
}

// casts lists the parameters after the first `from` as typed arrays.
func casts(from int, types ...string) string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = fmt.Sprintf("$%d::%s[]", from+i+1, t)
	}
	return strings.Join(s, ", ")
}

// columns turns rows of string or timestamp values into one array
// argument per column. Timestamps travel as text (the driver has
// no timestamp arrays), in a form PostgreSQL reads back to the microsecond.
func columns(rows [][]any, array func(any) any) ([]any, error) {
	out := make([]any, len(rows[0]))
	for j := range rows[0] {
		var col any
		switch rows[0][j].(type) {
		case string:
			v := make([]string, len(rows))
			for i, r := range rows {
				str, ok := r[j].(string)
				if !ok {
					return nil, fmt.Errorf("column %d: row %d holds %T among strings", j, i, r[j])
				}
				v[i] = str
			}
			col = v
		case time.Time:
			v := make([]string, len(rows))
			for i, r := range rows {
				t, ok := r[j].(time.Time)
				if !ok {
					return nil, fmt.Errorf("column %d: row %d holds %T among timestamps", j, i, r[j])
				}
				v[i] = t.UTC().Format("2006-01-02 15:04:05.999999Z07:00")
			}
			col = v
		default:
			return nil, fmt.Errorf("column %d: no array form for %T", j, rows[0][j])
		}
		out[j] = array(col)
	}
	return out, nil
}
