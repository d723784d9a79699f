// Package consent is the decision engine: given a policy, one record's
// canonical fields, its jurisdiction hints, GPC signal and the subject's
// latest ledger state per purpose, Decide says field by field what may be
// forwarded (kept in clear, hashed, masked) or removed, whether the whole
// record is dropped, and names the rule and ledger entry behind each
// decision. It is pure: no I/O, no clock unless Input.Now is zero, no state
// between calls; the same input always gives the same Result.
//
// Semantics (DESIGN.md §3, §10), applied in this order:
//
//  1. Jurisdiction: the record's country (and region) fields replace the
//     connector default entirely; a region alone refines the default's
//     country. Unsure → opt_in (see policy.Resolve).
//  2. Per purpose: a GPC/do-not-sell signal makes profiling and
//     third_party_sharing opted_out in every jurisdiction, whatever the
//     ledger says. Otherwise the latest ledger state decides: granted (unless
//     past State.ExpiresAt or the purpose's validity, which counts as
//     absent), denied, withdrawn. Silence is absent under opt_in and
//     allowed_opt_out under opt_out — except for purposes that serve only
//     special categories, which only an explicit grant allows.
//  3. Per field: a field in no category is dropped; an empty value is
//     dropped; a field is kept in clear when one of its category's purposes
//     is granted or allowed_opt_out (special categories: granted only);
//     otherwise the category's action applies (redact, hash, mask,
//     drop_record).
//  4. Per record: any drop_record action drops the record; so does having
//     no field kept in clear (hashed or masked fields alone, or a granted
//     purpose no field serves, do not keep a record alive).
//
// Rule names (stable; used in receipts, the decision log and metric labels):
//
//	jurisdiction.from_record         country/region came from the record
//	jurisdiction.from_connector      the connector's default_jurisdiction was used
//	jurisdiction.none                neither; the policy default regime applies
//	regime.listed                    the code (or its group) is listed in the policy
//	regime.country_listed            an unlisted region inherits its listed country
//	regime.default                   nothing listed applies: jurisdictions.default
//	regime.region_unknown_strictest  country with listed regions given without one (e.g. US): opt_in
//	regime.unrecognised_strictest    not an ISO code, or a group whose members differ: opt_in
//	signal.gpc                       purpose blocked by GPC / do-not-sell (opted_out)
//	purpose.granted                  valid explicit grant
//	purpose.denied                   latest statement is a denial (e.g. unchecked box)
//	purpose.withdrawn                latest statement is a withdrawal
//	purpose.expired                  grant past its validity, opt_in regime (counts as absent)
//	purpose.absent                   no statement, opt_in regime
//	purpose.opt_out_default          no statement (or lapsed grant), opt_out regime: allowed
//	purpose.special_requires_grant   special-only purpose, no explicit grant, opt_out regime
//	purpose.unrecognised_status      ledger status the engine does not know: treated as denied
//	field.unmapped                   field in no policy category: dropped
//	field.empty                      blank value: dropped, does not count as kept
//	field.keep.granted               kept in clear; at least one purpose explicitly granted
//	field.keep.opt_out_default       kept in clear by the opt-out default only
//	category.<category>.<action>     the category's otherwise action (redact, hash, mask, drop_record)
//	no_clear_field_with_granted_purpose  record dropped: nothing kept in clear
//	record.drop / record.forward     the record's fate
//
// A record's DropRule is the first category.<name>.drop_record rule (fields
// in name order) or no_clear_field_with_granted_purpose.
//
// Hashed values are "h_" + hex(HMAC-SHA256(hashKey, value)) with e-mail and
// phone normalised first, so CRMs can join pseudonyms; masks keep only the
// first letter and domain of an e-mail or the country code and last four
// digits of a phone number. Neither ever contains the raw value.
package consent
