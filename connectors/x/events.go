package x

import (
	"encoding/json"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
)

type mentions struct {
	UserMentions []user `json:"user_mentions"`
}

// tweet is the part of a v1.1 Tweet object this connector reads. The
// numeric "id" is deliberately absent: X rounds it.
type tweet struct {
	IDStr             string   `json:"id_str"`
	CreatedAt         string   `json:"created_at"`
	TimestampMS       scalar   `json:"timestamp_ms"`
	Text              string   `json:"text"`
	User              *user    `json:"user"`
	Entities          mentions `json:"entities"`
	InReplyToStatusID string   `json:"in_reply_to_status_id_str"`
	InReplyToUserID   string   `json:"in_reply_to_user_id_str"`
	QuotedStatusID    string   `json:"quoted_status_id_str"`
	Lang              string   `json:"lang"`
	RetweetedStatus   *struct {
		IDStr string `json:"id_str"`
	} `json:"retweeted_status"`
	ExtendedTweet *struct {
		FullText string   `json:"full_text"`
		Entities mentions `json:"entities"`
	} `json:"extended_tweet"`
}

func tweetCreate(d *delivery, where string, raw json.RawMessage) (ingest.Record, bool, error) {
	var t tweet
	if err := decodeElem(where, raw, &t); err != nil {
		return ingest.Record{}, false, err
	}
	if t.IDStr == "" {
		return ingest.Record{}, false, missing(where, "id_str")
	}
	author := t.User.userID()
	if author == "" {
		return ingest.Record{}, false, missing(where, "user.id_str")
	}
	if d.own(author) {
		return ingest.Record{}, false, nil
	}
	at, err := occurredAt(where, "timestamp_ms", t.TimestampMS, t.CreatedAt)
	if err != nil {
		return ingest.Record{}, false, err
	}
	f := fields{}
	f.set("id_str", t.IDStr)
	f.setUser("user", t.User)
	// Long posts arrive with text cut and the whole of it in
	// extended_tweet.full_text; forward exactly one of the two.
	if t.ExtendedTweet != nil && t.ExtendedTweet.FullText != "" {
		f.set("extended_tweet.full_text", t.ExtendedTweet.FullText)
	} else {
		f.set("text", t.Text)
	}
	f.set("lang", t.Lang)
	f.set("in_reply_to_status_id_str", t.InReplyToStatusID)
	f.set("in_reply_to_user_id_str", t.InReplyToUserID)
	f.set("quoted_status_id_str", t.QuotedStatusID)
	if t.RetweetedStatus != nil {
		f.set("retweeted_status.id_str", t.RetweetedStatus.IDStr)
	}
	typ := "x.post"
	if d.mentions(author, &t) {
		typ = "x.mention"
		f.set(d.hasBlockedKey, d.userHasBlocked)
	}
	return ingest.Record{
		EventID: "tweet:" + t.IDStr, Kind: ingest.KindInteraction, Type: typ,
		OccurredAt: at, Fields: f,
	}, true, nil
}

// mentions reports whether t, written by author, addresses the subscribed
// account: names it or replies to it, and is not a retweet.
func (d *delivery) mentions(author string, t *tweet) bool {
	if d.forUser == "" || author == d.forUser || t.RetweetedStatus != nil {
		return false
	}
	if t.InReplyToUserID == d.forUser {
		return true
	}
	lists := [][]user{t.Entities.UserMentions}
	if t.ExtendedTweet != nil {
		lists = append(lists, t.ExtendedTweet.Entities.UserMentions)
	}
	for _, l := range lists {
		for i := range l {
			if l[i].userID() == d.forUser {
				return true
			}
		}
	}
	return false
}

type favoriteEvent struct {
	ID              scalar `json:"id"`
	CreatedAt       string `json:"created_at"`
	TimestampMS     scalar `json:"timestamp_ms"`
	User            *user  `json:"user"`
	FavoritedStatus *struct {
		IDStr string `json:"id_str"`
		User  *user  `json:"user"`
	} `json:"favorited_status"`
}

func favorite(d *delivery, where string, raw json.RawMessage) (ingest.Record, bool, error) {
	var e favoriteEvent
	if err := decodeElem(where, raw, &e); err != nil {
		return ingest.Record{}, false, err
	}
	id, err := requireID(where, "id", e.ID)
	if err != nil {
		return ingest.Record{}, false, err
	}
	liker := e.User.userID()
	if liker == "" {
		return ingest.Record{}, false, missing(where, "user.id_str")
	}
	if d.own(liker) {
		return ingest.Record{}, false, nil
	}
	at, err := occurredAt(where, "timestamp_ms", e.TimestampMS, e.CreatedAt)
	if err != nil {
		return ingest.Record{}, false, err
	}
	f := fields{}
	f.set("id", id)
	f.setUser("user", e.User)
	if s := e.FavoritedStatus; s != nil {
		f.set("favorited_status.id_str", s.IDStr)
		f.set("favorited_status.user.id_str", s.User.userID())
	}
	return ingest.Record{
		EventID: "favorite:" + id, Kind: ingest.KindInteraction, Type: "x.favorite",
		OccurredAt: at, Fields: f,
	}, true, nil
}

type relationEvent struct {
	Type             string `json:"type"`
	CreatedTimestamp scalar `json:"created_timestamp"`
	Source           *user  `json:"source"`
	Target           *user  `json:"target"`
}

// relation converts follow, block and mute events (and their undoing): X
// sends both in one array with a type, and documents separate un- arrays
// too. on/off are the types the array may carry; dflt applies when the
// element has none.
func relation(on, off, dflt string) converter {
	return func(d *delivery, where string, raw json.RawMessage) (ingest.Record, bool, error) {
		var e relationEvent
		if err := decodeElem(where, raw, &e); err != nil {
			return ingest.Record{}, false, err
		}
		typ := e.Type
		if typ == "" {
			typ = dflt
		}
		if typ != on && typ != off {
			return ingest.Record{}, false, nil
		}
		src, dst := e.Source.userID(), e.Target.userID()
		if src == "" {
			return ingest.Record{}, false, missing(where, "source.id_str")
		}
		if dst == "" {
			return ingest.Record{}, false, missing(where, "target.id_str")
		}
		if e.CreatedTimestamp.s == "" {
			// Without it a later follow by the same pair would repeat the id.
			return ingest.Record{}, false, missing(where, "created_timestamp")
		}
		at, ok := unixMillis(e.CreatedTimestamp)
		if !ok {
			return ingest.Record{}, false, ingest.Errorf(ingest.ErrMalformed, "%s.created_timestamp: must be milliseconds since the epoch", where)
		}
		if d.own(src) {
			return ingest.Record{}, false, nil
		}
		f := fields{}
		f.set("type", typ)
		f.setUser("source", e.Source)
		f.set("target.id_str", dst)
		f.set("target.screen_name", e.Target.ScreenName)
		return ingest.Record{
			EventID:    typ + ":" + src + ":" + dst + ":" + e.CreatedTimestamp.s,
			Kind:       ingest.KindInteraction,
			Type:       "x." + typ,
			OccurredAt: at,
			Fields:     f,
		}, true, nil
	}
}

type dmEvent struct {
	Type             string `json:"type"`
	ID               scalar `json:"id"`
	CreatedTimestamp scalar `json:"created_timestamp"`
	MessageCreate    *struct {
		Target struct {
			RecipientID scalar `json:"recipient_id"`
		} `json:"target"`
		SenderID    scalar `json:"sender_id"`
		SourceAppID scalar `json:"source_app_id"`
		MessageData struct {
			Text string `json:"text"`
		} `json:"message_data"`
	} `json:"message_create"`
}

func directMessage(d *delivery, where string, raw json.RawMessage) (ingest.Record, bool, error) {
	var e dmEvent
	if err := decodeElem(where, raw, &e); err != nil {
		return ingest.Record{}, false, err
	}
	if e.Type != "message_create" || e.MessageCreate == nil {
		return ingest.Record{}, false, nil
	}
	id, err := requireID(where, "id", e.ID)
	if err != nil {
		return ingest.Record{}, false, err
	}
	mc := e.MessageCreate
	sender, err := requireID(where, "message_create.sender_id", mc.SenderID)
	if err != nil {
		return ingest.Record{}, false, err
	}
	if d.own(sender) {
		return ingest.Record{}, false, nil
	}
	var at time.Time
	if e.CreatedTimestamp.s != "" {
		var ok bool
		if at, ok = unixMillis(e.CreatedTimestamp); !ok {
			return ingest.Record{}, false, ingest.Errorf(ingest.ErrMalformed, "%s.created_timestamp: must be milliseconds since the epoch", where)
		}
	}
	f := fields{}
	f.set("id", id)
	f.set("message_create.sender_id", sender)
	recipient, _ := mc.Target.RecipientID.id()
	f.set("message_create.target.recipient_id", recipient)
	app, _ := mc.SourceAppID.id()
	f.set("message_create.source_app_id", app)
	f.set("message_create.message_data.text", mc.MessageData.Text)
	if raw, ok := d.users[sender]; ok {
		var u user
		if json.Unmarshal(raw, &u) != nil {
			return ingest.Record{}, false, ingest.Errorf(ingest.ErrMalformed, "users: the entry of %s message_create.sender_id is not a user object", where)
		}
		f.set("sender.screen_name", u.ScreenName)
		f.set("sender.name", u.Name)
	}
	return ingest.Record{
		EventID: "dm:" + id, Kind: ingest.KindInteraction, Type: "x.dm",
		OccurredAt: at, Fields: f,
	}, true, nil
}

type deleteEvent struct {
	Status *struct {
		ID     scalar `json:"id"`
		IDStr  string `json:"id_str"`
		UserID scalar `json:"user_id"`
	} `json:"status"`
	TimestampMS scalar `json:"timestamp_ms"`
}

// tweetDelete is a compliance signal: the author deleted the tweet, so
// downstream copies must go. Never skipped as own activity.
func tweetDelete(_ *delivery, where string, raw json.RawMessage) (ingest.Record, bool, error) {
	var e deleteEvent
	if err := decodeElem(where, raw, &e); err != nil {
		return ingest.Record{}, false, err
	}
	if e.Status == nil {
		return ingest.Record{}, false, missing(where, "status")
	}
	id := e.Status.IDStr
	if id == "" {
		var err error
		if id, err = requireID(where, "status.id", e.Status.ID); err != nil {
			return ingest.Record{}, false, err
		}
	}
	author, err := requireID(where, "status.user_id", e.Status.UserID)
	if err != nil {
		return ingest.Record{}, false, err
	}
	at, err := occurredAt(where, "timestamp_ms", e.TimestampMS, "")
	if err != nil {
		return ingest.Record{}, false, err
	}
	return ingest.Record{
		EventID: "tweet_delete:" + id, Kind: ingest.KindDeletion, Type: "x.tweet_delete",
		OccurredAt: at, Fields: fields{"status.id": id, "status.user_id": author},
	}, true, nil
}

type userEventBody struct {
	Revoke *struct {
		DateTime string `json:"date_time"`
		Target   struct {
			AppID scalar `json:"app_id"`
		} `json:"target"`
		Source struct {
			UserID scalar `json:"user_id"`
		} `json:"source"`
	} `json:"revoke"`
}

// userEvent handles user_event, an object (not an array): a revoke means
// the user withdrew the app's access, which the gateway treats as a
// deletion signal for that user.
func userEvent(raw json.RawMessage) (ingest.Record, bool, error) {
	const where = "user_event"
	var e userEventBody
	if err := decodeElem(where, raw, &e); err != nil {
		return ingest.Record{}, false, err
	}
	if e.Revoke == nil {
		return ingest.Record{}, false, nil
	}
	r := e.Revoke
	uid, err := requireID(where, "revoke.source.user_id", r.Source.UserID)
	if err != nil {
		return ingest.Record{}, false, err
	}
	if r.DateTime == "" {
		return ingest.Record{}, false, missing(where, "revoke.date_time")
	}
	at, perr := time.Parse(time.RFC3339, r.DateTime)
	if perr != nil {
		return ingest.Record{}, false, ingest.Errorf(ingest.ErrMalformed, `%s.revoke.date_time: must look like "2018-05-24T09:48:12+00:00"`, where)
	}
	app, _ := r.Target.AppID.id()
	f := fields{}
	f.set("source.user_id", uid)
	f.set("target.app_id", app)
	return ingest.Record{
		EventID: "revoke:" + app + ":" + uid + ":" + r.DateTime, Kind: ingest.KindDeletion, Type: "x.revoke",
		OccurredAt: at.UTC(), Fields: f,
	}, true, nil
}

// own reports whether the subscribed account itself acted, when the
// connector is told to leave such events out.
func (d *delivery) own(actor string) bool {
	return d.ignoreOwn && d.forUser != "" && actor == d.forUser
}

// requireID reads a required id, refusing a number too large to be exact.
func requireID(where, field string, v scalar) (string, error) {
	id, ok := v.id()
	switch {
	case ok:
		return id, nil
	case v.s == "":
		return "", missing(where, field)
	default:
		return "", ingest.Errorf(ingest.ErrMalformed, "%s.%s: must be a string id or an integer below 2^53 (larger numbers are rounded)", where, field)
	}
}

func missing(where, field string) error {
	return ingest.Errorf(ingest.ErrMalformed, "%s.%s is missing", where, field)
}
