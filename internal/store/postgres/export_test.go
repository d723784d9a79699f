package postgres

// TextArray lets the external tests send text arrays as the store does.
type TextArray = textArray
