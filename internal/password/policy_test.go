package password

import (
	"slices"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	all := Policy{MinLength: 10, RequireUpper: true, RequireLower: true, RequireDigit: true, RequireSpecial: true}

	tests := []struct {
		name string
		p    Policy
		pw   string
		want []string
	}{
		{"zero policy ok", Policy{}, "abcdefgh", nil},
		{"zero policy short", Policy{}, "abcdefg", []string{"at least 8 characters"}},
		{"negative length means 8", Policy{MinLength: -1}, "abc", []string{"at least 8 characters"}},
		{"code points not bytes", Policy{MinLength: 4}, "日本語", []string{"at least 4 characters"}},
		{"four code points", Policy{MinLength: 4}, "日本語だ", nil},
		{"empty", all, "", []string{
			"at least 10 characters", "an uppercase letter", "a lowercase letter", "a digit", "a special character",
		}},
		{"all met", all, "Tr0ub4dor&3x", nil},
		{"no upper", all, "tr0ub4dor&3x", []string{"an uppercase letter"}},
		{"no lower", all, "TR0UB4DOR&3X", []string{"a lowercase letter"}},
		{"no digit", all, "Troubador&xx", []string{"a digit"}},
		{"no special", all, "Tr0ub4dor3xy", []string{"a special character"}},
		{"space is special", all, "Tr0ub4dor 3x", nil},
		{"unicode letters", all, "Ñandú-ÉLAN9x", nil},
		{"other-script digit", all, "Abcdefgh!٣x", nil},
		{"caseless letter is not special", Policy{RequireSpecial: true}, "日本語日本語日本", []string{"a special character"}},
		{"rules off", Policy{MinLength: 1}, "x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.p.Check(tt.pw)
			if !slices.Equal(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Errorf("%+v.Check(%q) = %q, want %q", tt.p, tt.pw, got, tt.want)
			}
		})
	}
}
