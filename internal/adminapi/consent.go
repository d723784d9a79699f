package adminapi

// consentRoutes: filled in by the consent routes.
var consentRoutes = []Route{}
