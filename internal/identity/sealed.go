package identity

// The associated data each sealed secret of the flows is bound to, for
// code outside the flows that walks the sealed values: the store registers
// their columns for secrets.Rekey with these.

// TotpSecretAssociatedData is what the TOTP secret of userID in appID is
// sealed under.
func TotpSecretAssociatedData(appID, userID string) []byte { return totpAD(appID, userID) }

// TwilioTokenAssociatedData is what the Twilio auth token of appID is
// sealed under.
func TwilioTokenAssociatedData(appID string) []byte { return twilioAD(appID) }
