package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/jsonw"
)

// The hand encoders know these fields, in this order, with these types and
// tags. A change here needs the same change in encode.go: json.Marshal
// would pick it up silently, the hand encoder would not.
var encodedFields = map[reflect.Type][]string{
	reflect.TypeFor[Value](): {
		"ID string `json:\"id\"`",
		"Type string `json:\"type\"`",
		"EventType string `json:\"event_type\"`",
		"Source pipeline.Source `json:\"source\"`",
		"Subject pipeline.Subject `json:\"subject\"`",
		"OccurredAt *time.Time `json:\"occurred_at,omitempty\"`",
		"ReceivedAt time.Time `json:\"received_at\"`",
		"Test bool `json:\"test,omitempty\"`",
		"Fields map[string]string `json:\"fields\"`",
		"Consent *pipeline.Receipt `json:\"consent,omitempty\"`",
	},
	reflect.TypeFor[Source](): {
		"Platform string `json:\"platform\"`",
		"Connector string `json:\"connector\"`",
		"EventID string `json:\"event_id\"`",
		"Form string `json:\"form,omitempty\"`",
	},
	reflect.TypeFor[Subject](): {
		"Key string `json:\"key\"`",
		"KeySource string `json:\"key_source\"`",
		"Jurisdiction string `json:\"jurisdiction,omitempty\"`",
		"Regime string `json:\"regime,omitempty\"`",
	},
	reflect.TypeFor[Receipt](): {
		"PolicyVersion string `json:\"policy_version\"`",
		"GPC bool `json:\"gpc,omitempty\"`",
		"Purposes map[string]pipeline.PurposeReceipt `json:\"purposes\"`",
		"Fields map[string]pipeline.FieldReceipt `json:\"fields\"`",
	},
	reflect.TypeFor[PurposeReceipt](): {
		"Status string `json:\"status\"`",
		"EntryID string `json:\"entry_id,omitempty\"`",
		"Rule string `json:\"rule\"`",
	},
	reflect.TypeFor[FieldReceipt](): {
		"Action string `json:\"action\"`",
		"Rule string `json:\"rule\"`",
		"Category string `json:\"category,omitempty\"`",
		"Purposes []string `json:\"purposes,omitempty\"`",
	},
	reflect.TypeFor[ConsentEvent](): {
		"ID string `json:\"id\"`",
		"Type string `json:\"type\"`",
		"Subject pipeline.ConsentSubject `json:\"subject\"`",
		"EntryID string `json:\"entry_id,omitempty\"`",
		"Purpose string `json:\"purpose,omitempty\"`",
		"Method string `json:\"method,omitempty\"`",
		"Source *pipeline.ConsentSource `json:\"source,omitempty\"`",
		"Notice *pipeline.ConsentNotice `json:\"notice,omitempty\"`",
		"ObtainedAt *time.Time `json:\"obtained_at,omitempty\"`",
		"RecordedAt time.Time `json:\"recorded_at\"`",
		"ExpiresAt *time.Time `json:\"expires_at,omitempty\"`",
		"Evidence *pipeline.ConsentProof `json:\"evidence,omitempty\"`",
		"Erasure *pipeline.ConsentErasure `json:\"erasure,omitempty\"`",
	},
	reflect.TypeFor[ConsentSubject](): {
		"Key string `json:\"key\"`",
	},
	reflect.TypeFor[ConsentSource](): {
		"Platform string `json:\"platform,omitempty\"`",
		"Connector string `json:\"connector,omitempty\"`",
		"Form string `json:\"form,omitempty\"`",
		"CheckboxKey string `json:\"checkbox_key,omitempty\"`",
	},
	reflect.TypeFor[ConsentNotice](): {
		"ID string `json:\"id\"`",
		"Version string `json:\"version\"`",
	},
	reflect.TypeFor[ConsentProof](): {
		"PayloadSHA256 string `json:\"payload_sha256,omitempty\"`",
		"RequestID string `json:\"request_id,omitempty\"`",
	},
	reflect.TypeFor[ConsentErasure](): {
		"EntriesRemoved int64 `json:\"entries_removed\"`",
	},
}

func TestEncodedTypesUnchanged(t *testing.T) {
	marshaler := reflect.TypeFor[json.Marshaler]()
	textMarshaler := reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[Value]().PkgPath() || seen[typ] {
			return
		}
		seen[typ] = true
		want, known := encodedFields[typ]
		if !known {
			t.Errorf("%v is encoded by json.Marshal but unknown to encode.go", typ)
			return
		}
		if reflect.PointerTo(typ).Implements(marshaler) || reflect.PointerTo(typ).Implements(textMarshaler) {
			t.Errorf("%v now has its own JSON or text marshaler: teach encode.go", typ)
		}
		var got []string
		for f := range typ.Fields() {
			got = append(got, fmt.Sprintf("%s %v `%s`", f.Name, f.Type, f.Tag))
			walk(f.Type)
		}
		if !slices.Equal(got, want) {
			t.Errorf("fields of %v changed; update encode.go and this list.\n got: %q\nwant: %q", typ, got, want)
		}
	}
	walk(reflect.TypeFor[Value]())
	walk(reflect.TypeFor[ConsentEvent]())
	for typ := range encodedFields {
		if !seen[typ] {
			t.Errorf("%v is listed but no longer reachable from Value or ConsentEvent", typ)
		}
	}
}

// checkSame fails unless the hand encoder gives what json.Marshal gives,
// bytes and failure alike.
func checkSame(t *testing.T, name string, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	var got []byte
	var err error
	switch v := v.(type) {
	case *Value:
		got, err = v.marshalJSON()
	case *ConsentEvent:
		got, err = v.marshalJSON()
	default:
		t.Fatalf("%s: no hand encoder for %T", name, v)
	}
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %q (err %v)\nwant %q (err %v)", name, got, err, want, wantErr)
	}
}

const nastyString = "q\"b\\s/<>&\u2028\u2029\x00\x01\x1f\x7f\b\f\n\r\té日😀\xff\xc3\xed\xa0\x80\ufffd\xf4\x90\x80\x80end"

func TestEncodeValueCases(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)
	zoned := time.Date(2026, 3, 4, 5, 6, 7, 1, time.FixedZone("X", -(3*3600+30*60)))
	cases := map[string]Value{
		"zero":                    {},
		"empty fields":            {Fields: map[string]string{}},
		"empty receipt":           {Fields: map[string]string{}, Consent: &Receipt{}},
		"receipt with empty maps": {Consent: &Receipt{Purposes: map[string]PurposeReceipt{}, Fields: map[string]FieldReceipt{}}},
		"nasty strings": {
			ID: nastyString, Type: nastyString, EventType: nastyString,
			Source:  Source{Platform: nastyString, Connector: nastyString, EventID: nastyString, Form: nastyString},
			Subject: Subject{Key: nastyString, KeySource: nastyString, Jurisdiction: nastyString, Regime: nastyString},
			Fields:  map[string]string{nastyString: nastyString, "": "", "<": ">", "\xff": "x", "\ufffd": "y"},
			Consent: &Receipt{
				PolicyVersion: nastyString, GPC: true,
				Purposes: map[string]PurposeReceipt{nastyString: {Status: nastyString, EntryID: nastyString, Rule: nastyString}},
				Fields: map[string]FieldReceipt{
					nastyString: {Action: nastyString, Rule: nastyString, Category: nastyString, Purposes: []string{nastyString, ""}},
					"nil":       {Purposes: nil},
					"empty":     {Purposes: []string{}},
				},
			},
		},
		"times":                    {OccurredAt: &zoned, ReceivedAt: at, Test: true},
		"zero occurred_at pointer": {OccurredAt: &time.Time{}},
		"year 10000":               {ReceivedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"year -1 occurred":         {OccurredAt: ptr(time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC))},
		"zone hour 24":             {ReceivedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))},
		"zone with seconds":        {ReceivedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+30*60+15))},
		"realistic":                benchValue(),
	}
	for name, v := range cases {
		checkSame(t, name, &v)
	}

	// A literal anchor, so the comparison cannot pass by both sides drifting.
	got, err := (&Value{ID: "a<b", Fields: map[string]string{"b": "2", "a": "1"}, ReceivedAt: at}).marshalJSON()
	want := `{"id":"a\u003cb","type":"","event_type":"","source":{"platform":"","connector":"","event_id":""},"subject":{"key":"","key_source":""},"received_at":"2026-03-04T05:06:07.890123Z","fields":{"a":"1","b":"2"}}`
	if err != nil || string(got) != want {
		t.Errorf("got %s (err %v)\nwant %s", got, err, want)
	}
}

func TestEncodeConsentEventCases(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	cases := map[string]ConsentEvent{
		"zero":          {},
		"empty objects": {Source: &ConsentSource{}, Notice: &ConsentNotice{}, Evidence: &ConsentProof{}, Erasure: &ConsentErasure{}},
		"only last optional members": {
			Source: &ConsentSource{CheckboxKey: "c"}, Evidence: &ConsentProof{RequestID: "r"},
		},
		"nasty strings": {
			ID: nastyString, Type: nastyString, Subject: ConsentSubject{Key: nastyString},
			EntryID: nastyString, Purpose: nastyString, Method: nastyString,
			Source:     &ConsentSource{Platform: nastyString, Connector: nastyString, Form: nastyString, CheckboxKey: nastyString},
			Notice:     &ConsentNotice{ID: nastyString, Version: nastyString},
			ObtainedAt: &at, RecordedAt: at, ExpiresAt: &at,
			Evidence: &ConsentProof{PayloadSHA256: nastyString, RequestID: nastyString},
			Erasure:  &ConsentErasure{EntriesRemoved: math.MinInt64},
		},
		"erasure max":        {Erasure: &ConsentErasure{EntriesRemoved: math.MaxInt64}},
		"bad expires_at":     {ExpiresAt: ptr(time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC))},
		"bad obtained_at":    {ObtainedAt: ptr(time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC))},
		"bad recorded_at":    {RecordedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -30*3600))},
		"realistic":          benchConsentEvent(),
		"realistic, no ptrs": {ID: "x", Type: ConsentErased, Subject: ConsentSubject{Key: "k"}, RecordedAt: at},
	}
	for name, v := range cases {
		checkSame(t, name, &v)
	}
}

func ptr[T any](v T) *T { return &v }

// randomized builds values that reach every branch of the encoders.
type randomized struct{ r *rand.Rand }

var stringPieces = []string{
	"a", "Z", "0", " ", "-", "_", ".", "/", "\"", "\\", "<", ">", "&", "'", "+", "=",
	"\u2028", "\u2029", "\u2027", "\u202a", "é", "ß", "日本", "😀", "\ufffd",
	"\x00", "\x01", "\x08", "\x0b", "\x0e", "\x1b", "\x1f", "\x7f", "\b", "\f", "\n", "\r", "\t",
	"\x80", "\xbf", "\xc0", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\xef\xbf\xbf", "\xf4\x90\x80\x80", "\xf8", "\xff",
}

func (g randomized) string() string {
	if g.r.IntN(4) == 0 {
		return ""
	}
	var sb strings.Builder
	for range g.r.IntN(12) {
		if g.r.IntN(8) == 0 {
			sb.WriteByte(byte(g.r.IntN(256)))
		} else {
			sb.WriteString(stringPieces[g.r.IntN(len(stringPieces))])
		}
	}
	return sb.String()
}

func (g randomized) time() time.Time {
	year := 1970 + g.r.IntN(100)
	if g.r.IntN(50) == 0 {
		year = []int{-1, 0, 9999, 10000, 123456}[g.r.IntN(5)]
	}
	t := time.Date(year, time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), 0, time.UTC)
	switch g.r.IntN(4) {
	case 0:
		t = t.Add(time.Duration(g.r.IntN(1e9)))
	case 1:
		t = t.Add(time.Duration(g.r.IntN(1000)) * time.Millisecond)
	}
	switch g.r.IntN(6) {
	case 0:
		t = t.In(time.FixedZone("", g.r.IntN(2*26*3600)-26*3600))
	case 1:
		t = t.In(time.FixedZone("", (g.r.IntN(29)-14)*1800))
	}
	return t
}

func (g randomized) timePtr() *time.Time {
	if g.r.IntN(3) == 0 {
		return nil
	}
	return ptr(g.time())
}

func randomMap[V any](g randomized, val func() V) map[string]V {
	if g.r.IntN(5) == 0 {
		return nil
	}
	m := map[string]V{}
	for range g.r.IntN(8) {
		m[g.string()] = val()
	}
	return m
}

func (g randomized) strings() []string {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	s := make([]string, 1+g.r.IntN(4))
	for i := range s {
		s[i] = g.string()
	}
	return s
}

func (g randomized) value() *Value {
	v := &Value{
		ID: g.string(), Type: g.string(), EventType: g.string(),
		Source:     Source{Platform: g.string(), Connector: g.string(), EventID: g.string(), Form: g.string()},
		Subject:    Subject{Key: g.string(), KeySource: g.string(), Jurisdiction: g.string(), Regime: g.string()},
		OccurredAt: g.timePtr(), ReceivedAt: g.time(), Test: g.r.IntN(2) == 0,
		Fields: randomMap(g, g.string),
	}
	if g.r.IntN(4) != 0 {
		v.Consent = &Receipt{
			PolicyVersion: g.string(), GPC: g.r.IntN(2) == 0,
			Purposes: randomMap(g, func() PurposeReceipt {
				return PurposeReceipt{Status: g.string(), EntryID: g.string(), Rule: g.string()}
			}),
			Fields: randomMap(g, func() FieldReceipt {
				return FieldReceipt{Action: g.string(), Rule: g.string(), Category: g.string(), Purposes: g.strings()}
			}),
		}
	}
	return v
}

func (g randomized) consentEvent() *ConsentEvent {
	v := &ConsentEvent{
		ID: g.string(), Type: g.string(), Subject: ConsentSubject{Key: g.string()},
		EntryID: g.string(), Purpose: g.string(), Method: g.string(),
		ObtainedAt: g.timePtr(), RecordedAt: g.time(), ExpiresAt: g.timePtr(),
	}
	if g.r.IntN(2) == 0 {
		v.Source = &ConsentSource{Platform: g.string(), Connector: g.string(), Form: g.string(), CheckboxKey: g.string()}
	}
	if g.r.IntN(2) == 0 {
		v.Notice = &ConsentNotice{ID: g.string(), Version: g.string()}
	}
	if g.r.IntN(2) == 0 {
		v.Evidence = &ConsentProof{PayloadSHA256: g.string(), RequestID: g.string()}
	}
	if g.r.IntN(2) == 0 {
		v.Erasure = &ConsentErasure{EntriesRemoved: g.r.Int64() - g.r.Int64()}
	}
	return v
}

func TestEncodeMatchesJSONMarshal(t *testing.T) {
	g := randomized{rand.New(rand.NewPCG(20260304, 1))}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := range n {
		checkSame(t, fmt.Sprintf("value %d", i), g.value())
		checkSame(t, fmt.Sprintf("consent event %d", i), g.consentEvent())
		if t.Failed() {
			return
		}
	}
}

// Encoders come from a pool: concurrent encodings must not see each
// other's bytes or keys.
func TestEncodeConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			g := randomized{rand.New(rand.NewPCG(uint64(w), 2))}
			for i := range 300 {
				checkSame(t, fmt.Sprintf("worker %d value %d", w, i), g.value())
				checkSame(t, fmt.Sprintf("worker %d event %d", w, i), g.consentEvent())
			}
		})
	}
	wg.Wait()
}

func FuzzEncodeString(f *testing.F) {
	for _, s := range append(stringPieces, nastyString, "") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := jsonw.AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %q want %q", s, got, want)
		}
		checkSame(t, "map key and value", &Value{Fields: map[string]string{s: s, s + "x": s}})
	})
}

// benchValue is a record as the gateway forwards it: six fields, three
// purposes, six field receipts.
func benchValue() Value {
	occurred := time.Date(2026, 5, 17, 9, 41, 3, 0, time.UTC)
	kept := []string{"marketing_email", "analytics"}
	return Value{
		ID: "cg_3f1d2a9c8b7e6d5c4b3a291807f6e5d4", Type: "lead", EventType: "lead.created",
		Source:     Source{Platform: "meta", Connector: "meta-leadads-eu", EventID: "1234567890123456", Form: "spring-promo-2026"},
		Subject:    Subject{Key: "sk_9a8b7c6d5e4f30211203f4e5d6c7b8a9", KeySource: "email", Jurisdiction: "DE", Regime: "opt_in"},
		OccurredAt: &occurred, ReceivedAt: time.Date(2026, 5, 17, 9, 41, 4, 123456789, time.UTC),
		Fields: map[string]string{
			"email":      "h:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
			"first_name": "Anna",
			"last_name":  "Müller",
			"phone":      "+49 30 ****67",
			"company":    "Beispiel GmbH & Co. KG",
			"city":       "Berlin",
		},
		Consent: &Receipt{
			PolicyVersion: "2026-04-01",
			Purposes: map[string]PurposeReceipt{
				"marketing_email": {Status: "granted", EntryID: "ce_01HXYZABCDEF0123456789", Rule: "ledger"},
				"analytics":       {Status: "granted", EntryID: "ce_01HXYZABCDEF0123456790", Rule: "ledger"},
				"profiling":       {Status: "denied", Rule: "regime_default"},
			},
			Fields: map[string]FieldReceipt{
				"email":      {Action: "hash", Rule: "purpose_denied", Category: "contact.email", Purposes: []string{"profiling"}},
				"first_name": {Action: "keep", Rule: "purpose_granted", Category: "identity.name", Purposes: kept},
				"last_name":  {Action: "keep", Rule: "purpose_granted", Category: "identity.name", Purposes: kept},
				"phone":      {Action: "mask", Rule: "purpose_denied", Category: "contact.phone", Purposes: []string{"profiling"}},
				"company":    {Action: "keep", Rule: "uncategorised"},
				"city":       {Action: "keep", Rule: "purpose_granted", Category: "location.city", Purposes: kept},
			},
		},
	}
}

func benchConsentEvent() ConsentEvent {
	obtained := time.Date(2026, 5, 17, 9, 41, 3, 0, time.UTC)
	expires := obtained.Add(365 * 24 * time.Hour)
	return ConsentEvent{
		ID: "ce_01HXYZABCDEF0123456789", Type: ConsentGranted, Subject: ConsentSubject{Key: "sk_9a8b7c6d5e4f30211203f4e5d6c7b8a9"},
		EntryID: "ce_01HXYZABCDEF0123456789", Purpose: "marketing_email", Method: "checkbox",
		Source:     &ConsentSource{Platform: "meta", Connector: "meta-leadads-eu", Form: "spring-promo-2026", CheckboxKey: "optin_email"},
		Notice:     &ConsentNotice{ID: "privacy-eu", Version: "7"},
		ObtainedAt: &obtained, RecordedAt: obtained.Add(1500 * time.Millisecond), ExpiresAt: &expires,
		Evidence: &ConsentProof{PayloadSHA256: "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", RequestID: "req_0123456789"},
	}
}

func BenchmarkRecordValue(b *testing.B) {
	v := benchValue()
	benchEncoders(b, &v, v.marshalJSON)
}

func BenchmarkConsentEvent(b *testing.B) {
	v := benchConsentEvent()
	benchEncoders(b, &v, v.marshalJSON)
}

// benchEncoders compares json.Marshal of v with its hand encoder.
func benchEncoders(b *testing.B, v any, encode func() ([]byte, error)) {
	for name, enc := range map[string]func() ([]byte, error){
		"json.Marshal": func() ([]byte, error) { return json.Marshal(v) },
		"encoder":      encode,
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
