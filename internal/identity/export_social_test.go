package identity

// ReauthenticateSocial exposes reauthenticateSocial to the external tests,
// which need the store (whose package imports this one).
var ReauthenticateSocial = (*Service).reauthenticateSocial
