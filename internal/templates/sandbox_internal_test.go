package templates

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// TestRenderDeadline: a render whose time is up stops at its next step with
// an Invalid error naming the part. The deadline is already past, so no
// clock is read by the test.
func TestRenderDeadline(t *testing.T) {
	t.Parallel()
	_, err := render(context.Background(), -1, "test", Template{Subject: "ok", Text: "{{.Code}}"}, SampleVars(""))
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind() != apperr.Invalid || len(e.Violations()) != 1 || e.Violations()[0].Field != "subject" {
		t.Fatalf("render(past deadline) = %v, want Invalid in subject", err)
	}
	if !strings.Contains(e.Violations()[0].Description, "longer than") {
		t.Errorf("description = %q, want it to say the render took too long", e.Violations()[0].Description)
	}
}

func TestCheckFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format string
		ok     bool
	}{
		{"%s", true}, {"%64d", true}, {"%-64s", true}, {"%.64f", true}, {"%08.3f|%%|%x", true}, {"100%", true},
		{"%65d", false}, {"%.65f", false}, {"%0100000d", false}, {"%*d", false}, {"%.*f", false},
		{"%[1]s", false}, {"%-+# 0999s", false}, {"%99999999999999999999d", false},
	}
	for _, tt := range tests {
		if err := checkFormat(tt.format); (err == nil) != tt.ok {
			t.Errorf("checkFormat(%q) = %v, want ok %v", tt.format, err, tt.ok)
		}
	}
}
