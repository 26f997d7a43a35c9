package adminapi

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// valueAt returns the value at a dotted path of m and whether it is set.
func valueAt(m protoreflect.Message, path string) (protoreflect.Value, bool) {
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(seg))
		if i == len(segs)-1 {
			return m.Get(fd), m.Has(fd)
		}
		m = m.Get(fd).Message()
	}
	return protoreflect.Value{}, false
}

// clearAt clears the field at a dotted path of m, making its parents.
func clearAt(m protoreflect.Message, path string) {
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(seg))
		if i == len(segs)-1 {
			m.Clear(fd)
			return
		}
		m = m.Mutable(fd).Message()
	}
}

// FuzzApplyMask runs UpdateApp's mask over fuzzed masks and fuzzed request
// bodies (binary protobuf, as a client may send). A refused mask is Invalid
// naming update_mask; an accepted one changes exactly the named fields,
// each to what the request held, and leaves every other field as it was;
// whatever it makes, settingsOf reads and Validate judges without panic,
// answering Invalid when it refuses.
func FuzzApplyMask(f *testing.F) {
	body := func(r *adminv1.UpdateAppRequest) []byte {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	full := body(&adminv1.UpdateAppRequest{AppId: "a", Name: "New", Settings: &adminv1.AppSettings{
		SignupEnabled: true, Locales: []string{"en", "de"}, Audience: []string{"x"},
		PasswordPolicy: &authv1.PasswordPolicy{MinLength: 12, RequireDigit: true}, EmailFrom: "a@b.c",
	}})
	for _, s := range []struct{ mask, body string }{
		{"name", string(full)}, {"settings", string(full)}, {"settings.locales", string(full)},
		{"settings.password_policy.min_length", string(full)}, {"settings.password_policy", ""},
		{"settings.twilio.auth_token", string(full)}, {"app_id", string(full)}, {"update_mask", ""},
		{"", ""}, {"settings..locales", ""}, {"settings.nope", ""}, {"settings.locales.x", ""},
		{"name,settings.signup_enabled,settings", string(full)}, {"Settings.Locales", ""},
		{"settings.password_policy,settings.password_policy.min_length", "\x12\x03\xff\xff\xff"},
	} {
		f.Add(s.mask, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, mask string, raw []byte) {
		src := &adminv1.UpdateAppRequest{}
		if proto.Unmarshal(raw, src) != nil {
			return
		}
		cur := identity.DefaultSettings()
		dst := &adminv1.UpdateAppRequest{Name: "Old", Settings: settingsProto(cur)}
		orig := proto.Clone(dst).(*adminv1.UpdateAppRequest)
		var paths []string
		if mask != "" {
			paths = strings.Split(mask, ",")
		}
		err := applyMask(dst, src, &fieldmaskpb.FieldMask{Paths: paths})
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind() != apperr.Invalid || len(e.Violations()) != 1 || e.Violations()[0].Field != "update_mask" {
				t.Fatalf("applyMask(%q) = %v, want Invalid naming update_mask", mask, err)
			}
			if !proto.Equal(dst, orig) {
				t.Fatalf("applyMask(%q) refused but changed the app: %v", mask, dst)
			}
			return
		}
		for _, p := range paths {
			// An absent message and an empty one read alike (settingsOf
			// reads both as defaults), so values are compared, not presence:
			// "settings,settings.password_policy" leaves settings empty, not
			// absent.
			got, _ := valueAt(dst.ProtoReflect(), p)
			want, _ := valueAt(src.ProtoReflect(), p)
			if !got.Equal(want) {
				t.Fatalf("applyMask(%q): %s = %v, want the request's %v", mask, p, got, want)
			}
		}
		rest, restOrig := proto.Clone(dst), proto.Clone(orig)
		for _, p := range paths {
			clearAt(rest.ProtoReflect(), p)
			clearAt(restOrig.ProtoReflect(), p)
		}
		if !proto.Equal(rest, restOrig) {
			t.Fatalf("applyMask(%q) changed fields it does not name:\n got %v\nwant %v", mask, rest, restOrig)
		}
		if err := settingsOf(dst.GetSettings(), cur).Validate(); err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind() != apperr.Invalid {
				t.Fatalf("Validate(applyMask(%q)) = %v, want Invalid", mask, err)
			}
		}
	})
}
