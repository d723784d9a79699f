package adminapi

// decisionRoutes: filled in by the decisions routes.
var decisionRoutes = []Route{}
