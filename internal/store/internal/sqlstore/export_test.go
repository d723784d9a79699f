package sqlstore

// SetAfterDecisionScan lets tests write between EraseSubject's scan and
// its write transaction.
func SetAfterDecisionScan(f func()) { afterDecisionScan = f }
