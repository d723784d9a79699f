package x

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/jsonstrict"
)

// delivery is what every event converter may need from the whole body.
type delivery struct {
	forUser string
	// userHasBlocked is the mention-only top-level flag (documented both as
	// user_has_blocked and is_blocked_by), forwarded raw on tweets.
	userHasBlocked string
	hasBlockedKey  string
	users          map[string]json.RawMessage // DM users map, by id
	ignoreOwn      bool
}

// metaKeys are top-level keys that describe the delivery, not events.
var metaKeys = map[string]bool{
	"for_user_id": true, "user_has_blocked": true, "is_blocked_by": true,
	"users": true, "apps": true,
}

// converter turns one array element into a record; ok false means the
// element is understood but not forwarded.
type converter func(d *delivery, where string, raw json.RawMessage) (rec ingest.Record, ok bool, err error)

// arrays are the forwarded event arrays, in the order records are emitted.
var arrays = []struct {
	key     string
	convert converter
}{
	{"tweet_create_events", tweetCreate},
	{"favorite_events", favorite},
	{"follow_events", relation("follow", "unfollow", "follow")},
	{"unfollow_events", relation("follow", "unfollow", "unfollow")},
	{"block_events", relation("block", "unblock", "block")},
	{"unblock_events", relation("block", "unblock", "unblock")},
	{"mute_events", relation("mute", "unmute", "mute")},
	{"unmute_events", relation("mute", "unmute", "unmute")},
	{"direct_message_events", directMessage},
	{"tweet_delete_events", tweetDelete},
}

var arrayKeys = func() map[string]bool {
	m := map[string]bool{"user_event": true}
	for _, a := range arrays {
		m[a.key] = true
	}
	return m
}()

// Parse turns a verified Account Activity delivery into records, one per
// element of every event array. Errors wrap ingest.ErrMalformed.
func (c *Connector) Parse(req *ingest.Request) (ingest.Batch, error) {
	var b ingest.Batch
	body := bytes.TrimSpace(req.Body)
	if len(body) == 0 {
		return b, ingest.Errorf(ingest.ErrMalformed, "body is empty")
	}
	if body[0] != '{' {
		return b, ingest.Errorf(ingest.ErrMalformed, "body must be a JSON object")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return b, ingest.Errorf(ingest.ErrMalformed, "body: %s", describe(err))
	}

	d := &delivery{ignoreOwn: c.ignoreOwn}
	if err := d.readMeta(top); err != nil {
		return b, err
	}

	// An event that cannot be read is rejected alone; X retries a refused
	// delivery whole, which would refuse the good events beside it too.
	// item is the position of the next event in the delivery.
	events, item := 0, 0
	for _, a := range arrays {
		raw, ok := top[a.key]
		if !ok {
			continue
		}
		events++
		elems, err := elements(a.key, raw)
		if err != nil {
			if !errors.Is(err, ingest.ErrMalformed) {
				return ingest.Batch{}, err // a limit: the delivery as a whole
			}
			b.Reject(item, err)
			item++
			continue
		}
		for i, el := range elems {
			where := fmt.Sprintf("%s[%d]", a.key, i)
			var rec ingest.Record
			var ok bool
			if t := bytes.TrimSpace(el); len(t) == 0 || t[0] != '{' {
				err = ingest.Errorf(ingest.ErrMalformed, "%s: must be an object", where)
			} else {
				if serr := jsonstrict.Check(el); serr != nil {
					// encoding/json lets the last of two equal keys win.
					err = ingest.Errorf(ingest.ErrMalformed, "%s: %v", where, serr)
				} else {
					rec, ok, err = a.convert(d, where, el)
				}
			}
			item++
			switch {
			case err != nil && !errors.Is(err, ingest.ErrMalformed):
				return ingest.Batch{}, err
			case err != nil:
				b.Reject(item-1, err)
			case !ok:
				b.Ignored++
			default:
				rec.Form = d.forUser
				b.Records = append(b.Records, rec)
			}
		}
	}
	if raw, ok := top["user_event"]; ok {
		events++
		rec, ok, err := userEvent(raw)
		switch {
		case err != nil && !errors.Is(err, ingest.ErrMalformed):
			return ingest.Batch{}, err
		case err != nil:
			b.Reject(item, err)
		case ok:
			rec.Form = d.forUser
			b.Records = append(b.Records, rec)
		default:
			b.Ignored++
		}
	}
	// Documented-but-unforwarded keys (typing indicators, read receipts,
	// replay_job_status, spaces_events) and unknown ones.
	rest := make([]string, 0, len(top))
	for k := range top {
		if !metaKeys[k] && !arrayKeys[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		events++
		b.Ignored += countOf(top[k])
	}
	if events == 0 {
		return b, ingest.Errorf(ingest.ErrMalformed, "body carries no Account Activity event (no tweet_create_events, favorite_events, direct_message_events, ...)")
	}
	dropRepeats(&b)
	return b.Result()
}

func (d *delivery) readMeta(top map[string]json.RawMessage) error {
	var forUser, blocked scalar
	if raw, ok := top["for_user_id"]; ok {
		if err := decodeElem("for_user_id", raw, &forUser); err != nil {
			return err
		}
		id, ok := forUser.id()
		if !ok && forUser.s != "" {
			return ingest.Errorf(ingest.ErrMalformed, "for_user_id: must be a string id (a number this large is not exact)")
		}
		d.forUser = id
	}
	for _, k := range []string{"user_has_blocked", "is_blocked_by"} {
		if raw, ok := top[k]; ok {
			if err := decodeElem(k, raw, &blocked); err != nil {
				return err
			}
			d.userHasBlocked, d.hasBlockedKey = blocked.s, k
		}
	}
	if raw, ok := top["users"]; ok && top["direct_message_events"] != nil {
		if err := json.Unmarshal(raw, &d.users); err != nil {
			return ingest.Errorf(ingest.ErrMalformed, "users: must be an object of user objects keyed by id")
		}
	}
	return nil
}

// elements splits an event array; null counts as empty.
func elements(key string, raw json.RawMessage) ([]json.RawMessage, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, ingest.Errorf(ingest.ErrMalformed, "%s: must be an array of event objects", key)
	}
	return elems, nil
}

// countOf counts an ignored key's events: one per array element, else one.
func countOf(raw json.RawMessage) int {
	var elems []json.RawMessage
	if json.Unmarshal(raw, &elems) == nil {
		return len(elems)
	}
	return 1
}

// dropRepeats keeps the first record of each event id and counts the
// others as ignored: the contract wants ids unique inside a batch, and a
// repeated id is, by X's own rule, the same event delivered twice.
func dropRepeats(b *ingest.Batch) {
	seen := make(map[string]bool, len(b.Records))
	kept := b.Records[:0]
	for _, r := range b.Records {
		if seen[r.EventID] {
			b.Ignored++
			continue
		}
		seen[r.EventID] = true
		kept = append(kept, r)
	}
	b.Records = kept
}
