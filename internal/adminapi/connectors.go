package adminapi

// connectorRoutes: filled in by the connectors routes.
var connectorRoutes = []Route{}
