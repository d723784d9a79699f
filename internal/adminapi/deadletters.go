package adminapi

// deadLetterRoutes: filled in by the deadletters routes.
var deadLetterRoutes = []Route{}
