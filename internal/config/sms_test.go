package config_test

import (
	"slices"
	"testing"
	"time"
)

func TestLoadSMSSettings(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.TwilioAPIURL != "" || c.TwilioTimeout != 10*time.Second || c.SMSPerNumber != 5 || c.SMSPerIP != 20 || c.SMSPerApp != 500 {
		t.Errorf("SMS defaults = %q %v %d %d %d; want \"\" 10s 5 20 500", c.TwilioAPIURL, c.TwilioTimeout, c.SMSPerNumber, c.SMSPerIP, c.SMSPerApp)
	}
	c, err = load(t, map[string]string{
		"COSYNC_TWILIO_API_URL": "http://127.0.0.1:8081", "COSYNC_TWILIO_TIMEOUT": "3s",
		"COSYNC_SMS_MAX_PER_NUMBER": "2", "COSYNC_SMS_MAX_PER_IP": "7",
	}, "--sms-max-per-app", "90")
	if err != nil {
		t.Fatal(err)
	}
	if c.TwilioAPIURL != "http://127.0.0.1:8081" || c.TwilioTimeout != 3*time.Second || c.SMSPerNumber != 2 || c.SMSPerIP != 7 || c.SMSPerApp != 90 {
		t.Errorf("SMS settings = %q %v %d %d %d", c.TwilioAPIURL, c.TwilioTimeout, c.SMSPerNumber, c.SMSPerIP, c.SMSPerApp)
	}
	tests := []struct {
		name, env, value string
	}{
		{"relative Twilio URL", "COSYNC_TWILIO_API_URL", "/twilio"},
		{"ftp Twilio URL", "COSYNC_TWILIO_API_URL", "ftp://twilio.example.com"},
		{"zero timeout", "COSYNC_TWILIO_TIMEOUT", "0s"},
		{"timeout without unit", "COSYNC_TWILIO_TIMEOUT", "10"},
		{"zero per number", "COSYNC_SMS_MAX_PER_NUMBER", "0"},
		{"negative per IP", "COSYNC_SMS_MAX_PER_IP", "-1"},
		{"per app not a number", "COSYNC_SMS_MAX_PER_APP", "lots"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, map[string]string{tc.env: tc.value})
			if got := badVars(err); !slices.Equal(got, []string{tc.env}) {
				t.Errorf("Load(%s=%q) names %v (%v), want [%s]", tc.env, tc.value, got, err, tc.env)
			}
		})
	}
}
