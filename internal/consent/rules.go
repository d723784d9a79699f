package consent

import "github.com/consentgate/consentgate/internal/policy"

// Rule names: stable identifiers used in receipts, the decision log and
// metric labels. Renaming one is a breaking change for dashboards and CRMs;
// doc.go lists them all with their meaning.
const (
	// Where the jurisdiction came from (see also policy.RuleRegime*).
	RuleJurisdictionFromRecord    = policy.FromRecord
	RuleJurisdictionFromConnector = policy.FromConnector
	RuleJurisdictionNone          = policy.FromNothing

	RuleSignalGPC                = "signal.gpc"
	RulePurposeGranted           = "purpose.granted"
	RulePurposeDenied            = "purpose.denied"
	RulePurposeWithdrawn         = "purpose.withdrawn"
	RulePurposeExpired           = "purpose.expired"
	RulePurposeAbsent            = "purpose.absent"
	RulePurposeOptOutDefault     = "purpose.opt_out_default"
	RulePurposeSpecialNeedsGrant = "purpose.special_requires_grant"
	RulePurposeUnrecognised      = "purpose.unrecognised_status"

	RuleFieldUnmapped    = "field.unmapped"
	RuleFieldEmpty       = "field.empty"
	RuleFieldKeepGranted = "field.keep.granted"
	RuleFieldKeepOptOut  = "field.keep.opt_out_default"
	// Fallback actions are named "category.<category>.<action>"; see OtherwiseRule.

	RuleNoClearField  = "no_clear_field_with_granted_purpose"
	RuleRecordDrop    = "record.drop"
	RuleRecordForward = "record.forward"
)
