package adminapi

// tokenRoutes: filled in by the tokens routes.
var tokenRoutes = []Route{}
