package identity

import (
	"testing"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

func TestMatchTOTP(t *testing.T) {
	t.Parallel()
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Date(2026, 11, 23, 10, 0, 15, 0, time.UTC) // mid-step
	step := now.Unix() / 30
	code := func(d time.Duration) string {
		c, err := totp.GenerateCodeCustom(secret, now.Add(d), totp.ValidateOpts{Period: 30, Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name     string
		code     string
		after    int64
		wantStep int64
		wantOK   bool
	}{
		{"current step", code(0), 0, step, true},
		{"previous step (clock behind)", code(-30 * time.Second), 0, step - 1, true},
		{"next step (clock ahead)", code(30 * time.Second), 0, step + 1, true},
		{"two steps back", code(-60 * time.Second), 0, 0, false},
		{"two steps ahead", code(60 * time.Second), 0, 0, false},
		{"current step already used", code(0), step, 0, false},
		{"next step after the current was used", code(30 * time.Second), step, step + 1, true},
		{"previous step after the current was used", code(-30 * time.Second), step, 0, false},
		{"five digits", code(0)[:5], 0, 0, false},
		{"not digits", "abcdef", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := matchTOTP(secret, tc.code, now, tc.after)
			if ok != tc.wantOK || got != tc.wantStep {
				t.Errorf("matchTOTP(%q, after %d) = %d, %v; want %d, %v", tc.code, tc.after, got, ok, tc.wantStep, tc.wantOK)
			}
		})
	}
}
