package identity

// ParseInvitationsCSV exposes parseInvitationsCSV to the fuzz target.
var ParseInvitationsCSV = parseInvitationsCSV
