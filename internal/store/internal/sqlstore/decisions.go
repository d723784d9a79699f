package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/consentgate/consentgate/internal/jsonw"
	"github.com/consentgate/consentgate/internal/store"
)

const decisionCols = "id, at, connector, event_id, subject_key, outcome, rules, fields, policy_version, topic, request_id"

func (db *DB) decisionRow(d store.Decision) ([]any, error) {
	if d.ID == "" {
		d.ID = store.NewID()
	}
	if d.At.IsZero() {
		d.At = time.Now()
	}
	rules := d.Rules
	if rules == nil {
		rules = []string{}
	}
	fields := d.Fields
	if fields == nil {
		fields = map[string]string{}
	}
	// Encoded without reflection (as json.Marshal would): with SQLite this
	// runs while the single writer waits.
	var arr [512]byte
	buf := jsonw.AppendStrings(arr[:0], rules)
	r := string(buf)
	f := string(jsonw.AppendMap(buf[:0], fields, jsonw.AppendString))
	return []any{d.ID, db.ts(d.At), d.Connector, d.EventID, d.SubjectKey, d.Outcome, r, f,
		d.PolicyVersion, d.Topic, d.RequestID}, nil
}

type decisionRow struct {
	ID            string `db:"id"`
	At            Time   `db:"at"`
	Connector     string `db:"connector"`
	EventID       string `db:"event_id"`
	SubjectKey    string `db:"subject_key"`
	Outcome       string `db:"outcome"`
	Rules         string `db:"rules"`
	Fields        string `db:"fields"`
	PolicyVersion string `db:"policy_version"`
	Topic         string `db:"topic"`
	RequestID     string `db:"request_id"`
}

func (r decisionRow) decision() (store.Decision, error) {
	d := store.Decision{
		ID: r.ID, At: r.At.Time, Connector: r.Connector, EventID: r.EventID,
		SubjectKey: r.SubjectKey, Outcome: r.Outcome, PolicyVersion: r.PolicyVersion,
		Topic: r.Topic, RequestID: r.RequestID,
	}
	if err := json.Unmarshal([]byte(r.Rules), &d.Rules); err != nil {
		return d, fmt.Errorf("decode rules of decision %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Fields), &d.Fields); err != nil {
		return d, fmt.Errorf("decode fields of decision %s: %w", r.ID, err)
	}
	return d, nil
}

// ListDecisions returns newest first; Since is inclusive, Until exclusive.
func (db *DB) ListDecisions(ctx context.Context, f store.DecisionFilter) ([]store.Decision, error) {
	fl := filter{db: db}
	fl.eq("connector", f.Connector)
	fl.eq("outcome", f.Outcome)
	fl.between(f.Since, f.Until)
	q, args := fl.newestFirst("SELECT "+decisionCols+" FROM decisions", f.Limit)

	var out []store.Decision
	err := db.read(ctx, "list decisions", func(r *sqlx.DB) error {
		var rows []decisionRow
		if err := r.SelectContext(ctx, &rows, r.Rebind(q), args...); err != nil {
			return err
		}
		out = make([]store.Decision, 0, len(rows))
		for _, row := range rows {
			d, err := row.decision()
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}
