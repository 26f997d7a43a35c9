package keys

// Waiters returns how many callers wait on the store read in flight for
// appID (0 when none is), so a test can wait for them to queue instead of
// sleeping.
func (k *Keyring) Waiters(appID string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.loading[appID]; l != nil {
		return l.waiters
	}
	return 0
}
