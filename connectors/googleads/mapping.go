package googleads

// DefaultMapping maps Google's standard column_ids (LeadFormFieldUserInputType
// names) to canonical fields. Custom questions carry their own column_ids and
// are mapped in the connector's mapping section.
func (c *Connector) DefaultMapping() map[string]string {
	return DefaultMapping()
}

// DefaultMapping is the package-level form of (*Connector).DefaultMapping.
// WORK_EMAIL and WORK_PHONE map onto email and phone because B2B forms often
// ask only for those; when a form asks both, the gateway's mapping order
// decides which one is kept.
func DefaultMapping() map[string]string {
	return map[string]string{
		"FULL_NAME":    "full_name",
		"FIRST_NAME":   "first_name",
		"LAST_NAME":    "last_name",
		"EMAIL":        "email",
		"WORK_EMAIL":   "email",
		"PHONE_NUMBER": "phone",
		"WORK_PHONE":   "phone",
		"POSTAL_CODE":  "postal_code",
		"CITY":         "city",
		"REGION":       "region",
		"COUNTRY":      "country",
		"COMPANY_NAME": "company",
		"JOB_TITLE":    "job_title",
	}
}
