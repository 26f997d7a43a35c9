package adminapi

import (
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
)

func duration(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

// settingsProto converts settings for a developer: the Twilio auth token
// shows only as its hint.
func settingsProto(s identity.AppSettings) *adminv1.AppSettings {
	status := adminv1.AppStatus_APP_STATUS_ACTIVE
	if s.Status == identity.AppSuspended {
		status = adminv1.AppStatus_APP_STATUS_SUSPENDED
	}
	return &adminv1.AppSettings{
		SignupEnabled:         s.SignupEnabled,
		SignupFlow:            rpc.SignupFlow(s.SignupFlow),
		InvitesEnabled:        s.InvitesEnabled,
		AnonymousLoginEnabled: s.AnonymousLoginEnabled,
		UserNamesEnabled:      s.UserNamesEnabled,
		TwoFactor:             rpc.TwoFactor(s.TwoFactor),
		AuthenticatorLabel:    s.AuthenticatorLabel,
		Twilio: &adminv1.TwilioSettings{
			AccountSid: s.Twilio.AccountSID, AuthToken: s.Twilio.AuthTokenHint,
			FromNumber: s.Twilio.FromNumber, MessagingServiceSid: s.Twilio.MessagingServiceSID,
		},
		Apple:                &adminv1.AppleSettings{Enabled: s.Apple.Enabled, BundleIds: s.Apple.BundleIDs},
		Google:               &adminv1.GoogleSettings{Enabled: s.Google.Enabled, ClientIds: s.Google.ClientIDs},
		PasswordPolicy:       rpc.PasswordPolicy(s.PasswordPolicy),
		TokenLifetime:        duration(s.TokenLifetime),
		RefreshTokenLifetime: duration(s.RefreshTokenLifetime),
		Audience:             s.Audience,
		SignupMetadataFields: rpc.MetadataFields(s.SignupMetadataFields),
		InviteMetadataFields: rpc.MetadataFields(s.InviteMetadataFields),
		EmailClaim:           s.EmailClaim,
		Locales:              s.Locales,
		MaxLoginAttempts:     int32(s.MaxLoginAttempts),
		Status:               status,
		RedirectUrls:         s.RedirectURLs,
		InviteLifetime:       duration(s.InviteLifetime),
		KeyRotation:          &adminv1.KeyRotation{Interval: duration(s.KeyRotation.Interval), RetireAfter: duration(s.KeyRotation.RetireAfter)},
		LinkVerifiedEmails:   s.LinkVerifiedEmails,
		SocialSkipsTwoFactor: s.SocialSkipsTwoFactor,
		TotpQrMail:           s.TOTPQRMail,
		EmailFrom:            s.EmailFrom,

		CosyncjwtAppToken:     s.CosyncJWT.AppTokenHint,
		Md5PrehashedPasswords: s.CosyncJWT.MD5PrehashedPasswords,
		RateLimits:            rateLimits(s.RateLimits),
	}
}

// rateLimits converts rules to messages (settings overrides and the
// effective limits of GetApp).
func rateLimits(rs []identity.LimitRule) []*adminv1.RateLimit {
	var out []*adminv1.RateLimit
	for _, r := range rs {
		out = append(out, &adminv1.RateLimit{Name: r.Name, Limit: int32(r.Limit), Window: durationpb.New(r.Window)})
	}
	return out
}

// rateLimitsOf converts overrides back; identity validates them.
func rateLimitsOf(ps []*adminv1.RateLimit) []identity.LimitRule {
	var out []identity.LimitRule
	for _, p := range ps {
		out = append(out, identity.LimitRule{Name: p.GetName(), Limit: int(p.GetLimit()), Window: p.GetWindow().AsDuration()})
	}
	return out
}

// settingsOf converts settings back. Secrets cannot come from the message:
// the sealed Twilio token and its hint are kept from prev.
func settingsOf(p *adminv1.AppSettings, prev identity.AppSettings) identity.AppSettings {
	status := identity.AppActive
	if p.GetStatus() == adminv1.AppStatus_APP_STATUS_SUSPENDED {
		status = identity.AppSuspended
	}
	return identity.AppSettings{
		SignupEnabled:         p.GetSignupEnabled(),
		SignupFlow:            rpc.SignupFlowOf(p.GetSignupFlow()),
		InvitesEnabled:        p.GetInvitesEnabled(),
		AnonymousLoginEnabled: p.GetAnonymousLoginEnabled(),
		UserNamesEnabled:      p.GetUserNamesEnabled(),
		TwoFactor:             rpc.TwoFactorOf(p.GetTwoFactor()),
		AuthenticatorLabel:    p.GetAuthenticatorLabel(),
		Twilio: identity.TwilioSettings{
			AccountSID: p.GetTwilio().GetAccountSid(), FromNumber: p.GetTwilio().GetFromNumber(),
			MessagingServiceSID: p.GetTwilio().GetMessagingServiceSid(),
			AuthTokenSealed:     prev.Twilio.AuthTokenSealed, AuthTokenHint: prev.Twilio.AuthTokenHint,
		},
		Apple:                identity.AppleSettings{Enabled: p.GetApple().GetEnabled(), BundleIDs: p.GetApple().GetBundleIds()},
		Google:               identity.GoogleSettings{Enabled: p.GetGoogle().GetEnabled(), ClientIDs: p.GetGoogle().GetClientIds()},
		PasswordPolicy:       rpc.PasswordPolicyOf(p.GetPasswordPolicy()),
		TokenLifetime:        p.GetTokenLifetime().AsDuration(),
		RefreshTokenLifetime: p.GetRefreshTokenLifetime().AsDuration(),
		Audience:             p.GetAudience(),
		SignupMetadataFields: rpc.MetadataFieldsOf(p.GetSignupMetadataFields()),
		InviteMetadataFields: rpc.MetadataFieldsOf(p.GetInviteMetadataFields()),
		EmailClaim:           p.GetEmailClaim(),
		Locales:              p.GetLocales(),
		MaxLoginAttempts:     int(p.GetMaxLoginAttempts()),
		Status:               status,
		RedirectURLs:         p.GetRedirectUrls(),
		InviteLifetime:       p.GetInviteLifetime().AsDuration(),
		KeyRotation: identity.KeyRotation{
			Interval: p.GetKeyRotation().GetInterval().AsDuration(), RetireAfter: p.GetKeyRotation().GetRetireAfter().AsDuration(),
		},
		LinkVerifiedEmails:   p.GetLinkVerifiedEmails(),
		SocialSkipsTwoFactor: p.GetSocialSkipsTwoFactor(),
		TOTPQRMail:           p.GetTotpQrMail(),
		EmailFrom:            p.GetEmailFrom(),
		CosyncJWT:            cosyncJWTOf(p, prev.CosyncJWT),
		RateLimits:           rateLimitsOf(p.GetRateLimits()),
	}
}

// cosyncJWTOf reads the drop-in settings; console decides what the app
// token field means (a new token, or the hint it was shown).
func cosyncJWTOf(p *adminv1.AppSettings, prev identity.CosyncJWTSettings) identity.CosyncJWTSettings {
	return console.CosyncJWTSettings(prev, p.GetCosyncjwtAppToken(), p.GetMd5PrehashedPasswords())
}

// newTwilioToken returns a Twilio auth token the developer typed, if the
// given settings carry one (identity decides that the hint does not count).
func newTwilioToken(p *adminv1.AppSettings) identity.Secret {
	return console.NewTwilioToken(p.GetTwilio().GetAuthToken())
}

// overlay copies every populated field of src onto dst: scalars and lists
// replace, messages merge field by field. It is how CreateApp lays the
// settings a developer sent over the defaults.
func overlay(dst, src protoreflect.Message) {
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && !isWellKnown(fd) {
			overlay(dst.Mutable(fd).Message(), v.Message())
			return true
		}
		dst.Set(fd, v)
		return true
	})
}

func isWellKnown(fd protoreflect.FieldDescriptor) bool {
	return strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf.")
}

// applyMask copies the fields paths name from src to dst (both
// UpdateAppRequest messages): a path to an unset field clears it.
func applyMask(dst, src *adminv1.UpdateAppRequest, mask *fieldmaskpb.FieldMask) error {
	paths := mask.GetPaths()
	if len(paths) == 0 {
		return apperr.Field("update_mask", "must name at least one field, e.g. settings.signup_flow")
	}
	if _, err := fieldmaskpb.New(src, paths...); err != nil {
		return apperr.Field("update_mask", err.Error())
	}
	for _, p := range paths {
		if p != "name" && p != "settings" && !strings.HasPrefix(p, "settings.") {
			return apperr.Field("update_mask", "path "+p+" cannot be changed; use name or settings.<field>")
		}
		d, s := dst.ProtoReflect(), src.ProtoReflect()
		segs := strings.Split(p, ".")
		for i, seg := range segs {
			fd := d.Descriptor().Fields().ByName(protoreflect.Name(seg))
			if i == len(segs)-1 {
				if s.Has(fd) {
					d.Set(fd, cloneValue(fd, s.Get(fd)))
				} else {
					d.Clear(fd)
				}
				break
			}
			d = d.Mutable(fd).Message()
			s = s.Get(fd).Message()
		}
	}
	return nil
}

func cloneValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) protoreflect.Value {
	if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		return protoreflect.ValueOfMessage(proto.Clone(v.Message().Interface()).ProtoReflect())
	}
	return v
}

// maskTouches reports whether mask names path or one of its parents.
func maskTouches(mask *fieldmaskpb.FieldMask, path string) bool {
	for _, p := range mask.GetPaths() {
		if p == path || strings.HasPrefix(path, p+".") {
			return true
		}
	}
	return false
}
