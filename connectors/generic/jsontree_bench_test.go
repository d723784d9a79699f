package generic

import "testing"

// leadBody is the shape of a typical lead webhook, ~330 bytes.
var leadBody = []byte(`{"id":"evt_01JDQ6Z8Y7X6W5V4T3S2R1Q0PN","type":"lead.created","occurred_at":"2026-11-26T03:00:00Z","source":"landing-page/spring-2026","lead":{"email":"u1@example.com","phone":"+4915112345678","first_name":"Ana","last_name":"Muster","company":"ACME","country":"DE"},"consent":{"marketing_email":true,"analytics":false}}`)

func BenchmarkDecodeStrict(b *testing.B) {
	lim := DefaultConfig().Limits
	b.ReportAllocs()
	b.SetBytes(int64(len(leadBody)))
	for b.Loop() {
		if _, err := decodeStrict(leadBody, lim.MaxDepth, lim.MaxFieldBytes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeStrictReference runs the encoding/json Token walk that
// decodeStrict replaced, for comparison on the same machine and load.
func BenchmarkDecodeStrictReference(b *testing.B) {
	lim := DefaultConfig().Limits
	b.ReportAllocs()
	b.SetBytes(int64(len(leadBody)))
	for b.Loop() {
		if _, err := refDecodeStrict(leadBody, lim.MaxDepth, lim.MaxFieldBytes); err != nil {
			b.Fatal(err)
		}
	}
}
