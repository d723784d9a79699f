package googleads

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/ingest"
	"github.com/consentgate/consentgate/internal/jsonstrict"
)

// RecordType is the Record.Type of every Google Ads lead.
const RecordType = "googleads.lead"

// webhookLead is Google's WebhookLead message as JSON. Every member is
// optional and kept raw: int64 ids may come as numbers or strings (proto3
// JSON), and a raw value keeps all their digits. google_key is deliberately
// absent so it can never reach a record.
type webhookLead struct {
	LeadID         json.RawMessage `json:"lead_id"`
	UserColumnData []column        `json:"user_column_data"`
	APIVersion     json.RawMessage `json:"api_version"`
	FormID         json.RawMessage `json:"form_id"`
	CampaignID     json.RawMessage `json:"campaign_id"`
	IsTest         json.RawMessage `json:"is_test"`
	GclID          json.RawMessage `json:"gcl_id"`
	AdgroupID      json.RawMessage `json:"adgroup_id"`
	CreativeID     json.RawMessage `json:"creative_id"`
	AssetGroupID   json.RawMessage `json:"asset_group_id"`
	LeadStage      json.RawMessage `json:"lead_stage"`
	LeadSubmitTime json.RawMessage `json:"lead_submit_time"`
}

type column struct {
	ColumnName  json.RawMessage `json:"column_name"`
	StringValue json.RawMessage `json:"string_value"`
	ColumnID    json.RawMessage `json:"column_id"`
}

// Parse turns a verified lead body into one record. It first replaces the
// google_key value in req.Body, so nothing downstream holds the key.
func (c *Connector) Parse(req *ingest.Request) (ingest.Batch, error) {
	if err := checkContentType(req); err != nil {
		return ingest.Batch{}, err
	}
	req.Body = redactKey(req.Body)
	lead, err := decodeLead(req.Body)
	if err != nil {
		return ingest.Batch{}, err
	}
	if len(lead.UserColumnData) > c.cfg.MaxColumns {
		return ingest.Batch{}, ingest.Errorf(ingest.ErrTooLarge,
			"field user_column_data holds more than %d columns (settings.max_columns)", c.cfg.MaxColumns)
	}

	fields := map[string]string{}
	for i, col := range lead.UserColumnData {
		key, err := scalarField(col.ColumnID, "user_column_data[%d].column_id", i)
		if err != nil {
			return ingest.Batch{}, err
		}
		if key == "" && c.cfg.ColumnNameFallback {
			if key, err = scalarField(col.ColumnName, "user_column_data[%d].column_name", i); err != nil {
				return ingest.Batch{}, err
			}
		}
		if key == "" || key == keyField || isAbsent(col.StringValue) {
			// Nothing to key it by, no answer, or a column posing as the key
			// (which must never appear in a record, whatever its origin).
			continue
		}
		value, err := scalarField(col.StringValue, "user_column_data[%d].string_value", i)
		if err != nil {
			return ingest.Batch{}, err
		}
		if _, dup := fields[key]; !dup {
			fields[key] = value
		}
	}
	// Lead metadata goes in after the answers, so a custom question cannot
	// pose as the lead, form or campaign.
	for _, m := range []struct {
		name string
		raw  json.RawMessage
	}{
		{"lead_id", lead.LeadID}, {"api_version", lead.APIVersion}, {"form_id", lead.FormID},
		{"campaign_id", lead.CampaignID}, {"gcl_id", lead.GclID}, {"adgroup_id", lead.AdgroupID},
		{"creative_id", lead.CreativeID}, {"asset_group_id", lead.AssetGroupID}, {"lead_stage", lead.LeadStage},
	} {
		v, err := scalarField(m.raw, m.name)
		if err != nil {
			return ingest.Batch{}, err
		}
		if v != "" {
			fields[m.name] = v
		} else {
			delete(fields, m.name)
		}
	}
	id := fields["lead_id"]
	if id == "" {
		return ingest.Batch{}, ingest.Errorf(ingest.ErrMalformed, "field lead_id is missing")
	}
	submit, err := scalarField(lead.LeadSubmitTime, "lead_submit_time")
	if err != nil {
		return ingest.Batch{}, err
	}
	test, err := scalarField(lead.IsTest, "is_test")
	if err != nil {
		return ingest.Batch{}, err
	}
	r := ingest.Record{
		EventID: id,
		Kind:    ingest.KindLead,
		Type:    RecordType,
		Form:    fields["form_id"],
		Fields:  fields,
		Test:    strings.EqualFold(test, "true"),
	}
	// An unreadable time leaves OccurredAt zero rather than losing the lead.
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(submit)); err == nil {
		r.OccurredAt = t.UTC()
	}
	return ingest.Batch{Records: []ingest.Record{r}}, nil
}

// decodeLead reads exactly one JSON object. Errors name the field or byte
// offset, never the text, which may be personal data.
func decodeLead(body []byte) (webhookLead, error) {
	var lead webhookLead
	data := bytes.TrimSpace(body)
	if len(data) == 0 {
		return lead, ingest.Errorf(ingest.ErrMalformed, "body is empty")
	}
	if data[0] != '{' {
		return lead, ingest.Errorf(ingest.ErrMalformed, "body must be a JSON object")
	}
	// encoding/json lets the last of two equal keys win.
	if err := jsonstrict.Check(data); err != nil {
		return lead, ingest.Errorf(ingest.ErrMalformed, "body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&lead); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return lead, ingest.Errorf(ingest.ErrMalformed, "body is not valid JSON (at byte %d)", se.Offset)
		case errors.As(err, &te) && te.Field != "":
			return lead, ingest.Errorf(ingest.ErrMalformed, "field %s has the wrong type", te.Field)
		default:
			return lead, ingest.Errorf(ingest.ErrMalformed, "body is not valid JSON")
		}
	}
	if dec.InputOffset() != int64(len(data)) {
		return lead, ingest.Errorf(ingest.ErrMalformed, "body has data after the JSON object")
	}
	return lead, nil
}

// scalarField renders a string, number or bool member as a string; absent
// and null are "". Objects and arrays are malformed; where names the member.
func scalarField(raw json.RawMessage, where string, args ...any) (string, error) {
	raw = bytes.TrimSpace(raw)
	if isAbsent(raw) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", ingest.Errorf(ingest.ErrMalformed, "field "+where+" is not a valid string", args...)
		}
		return s, nil
	case '{', '[':
		return "", ingest.Errorf(ingest.ErrMalformed, "field "+where+" must be a string, number or boolean", args...)
	default:
		// Numbers keep their exact digits; true/false stay as written.
		return string(raw), nil
	}
}

func isAbsent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// checkContentType refuses bodies declared as something other than JSON; a
// delivery without a Content-Type is read as JSON.
func checkContentType(req *ingest.Request) error {
	ct := req.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return ingest.Errorf(ingest.ErrUnsupportedMediaType, "Content-Type must be application/json")
	}
	return nil
}
