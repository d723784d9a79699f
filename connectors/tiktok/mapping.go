package tiktok

// DefaultMapping maps the question names of TikTok's standard Instant Form
// questions to canonical fields. TikTok does not publish the names its lead
// webhook uses, so several spellings of the same question are listed; a
// connector's mapping section adds custom questions or replaces this list.
func (c *Connector) DefaultMapping() map[string]string {
	return DefaultMapping()
}

// DefaultMapping is the package-level form of (*Connector).DefaultMapping.
func DefaultMapping() map[string]string {
	return map[string]string{
		"name":              "full_name",
		"full_name":         "full_name",
		"first_name":        "first_name",
		"last_name":         "last_name",
		"email":             "email",
		"work_email":        "email",
		"phone_number":      "phone",
		"phone":             "phone",
		"work_phone_number": "phone",
		"company_name":      "company",
		"company":           "company",
		"job_title":         "job_title",
		"city":              "city",
		"province":          "region",
		"state":             "region",
		"region":            "region",
		"country":           "country",
		"country_region":    "country",
		"zip_code":          "postal_code",
		"postal_code":       "postal_code",
		"gender":            "gender",
		"date_of_birth":     "date_of_birth",
		"birthday":          "date_of_birth",
		"user_openid":       "platform_user_id",
	}
}
