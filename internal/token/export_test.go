package token

// SignatureChecks is how many signatures i has verified, for tests of what
// a remembered token skips.
func SignatureChecks(i *Issuer) int64 { return i.verified.checks.Load() }
