package identity

import (
	"log/slog"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// ConsoleAppID is the id of the built-in application developers sign in to.
const ConsoleAppID = "console"

// SignupFlow is how an application confirms a new user's email.
type SignupFlow string

// The signup flows.
const (
	FlowCode SignupFlow = "code"
	FlowLink SignupFlow = "link"
	FlowNone SignupFlow = "none"
)

// TwoFactorMethod is an application's second-factor setting or a user's factor.
type TwoFactorMethod string

// The second-factor methods.
const (
	TwoFactorNone TwoFactorMethod = "none"
	TwoFactorTOTP TwoFactorMethod = "totp"
	TwoFactorSMS  TwoFactorMethod = "sms"
)

// UserStatus is whether a user may sign in.
type UserStatus string

// The user statuses.
const (
	UserActive    UserStatus = "active"
	UserSuspended UserStatus = "suspended"
)

// AppStatus is whether an application serves its users.
type AppStatus string

// The application statuses.
const (
	AppActive    AppStatus = "active"
	AppSuspended AppStatus = "suspended"
)

// FieldType is the JSON type of a metadata field.
type FieldType string

// The metadata field types.
const (
	FieldString FieldType = "string"
	FieldNumber FieldType = "number"
	FieldBool   FieldType = "bool"
)

// Role is a developer's role in an application.
type Role string

// The member roles, strongest first.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleViewer Role = "viewer"
)

// CanWrite reports whether the role may change the application.
func (r Role) CanWrite() bool { return r.Allows(RoleAdmin) }

// Allows reports whether the role may do what needs the role `need`:
// viewers read, admins change settings and users, owners manage members,
// API keys, signing keys and deletion.
func (r Role) Allows(need Role) bool { return roleRank[r] >= roleRank[need] && roleRank[r] > 0 }

var roleRank = map[Role]int{RoleViewer: 1, RoleAdmin: 2, RoleOwner: 3}

// App is an application.
type App struct {
	ID        string
	Name      string
	Settings  AppSettings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MemberApp is an application with the caller's role in it.
type MemberApp struct {
	App
	Role Role
}

// Member is a developer's membership of an application. DeveloperID is the
// developer's user id in the console application.
type Member struct {
	AppID       string
	DeveloperID string
	Role        Role
	CreatedAt   time.Time
}

// User is an application user. Credentials are not part of it: they are read
// and written only through the Store methods the flows that need them call.
type User struct {
	ID            string
	AppID         string
	Email         string // normalized: trimmed, lower-case
	UserName      string // as the user typed it; unique per app ignoring case
	Phone         string
	PhoneVerified bool
	Metadata      map[string]any
	Locale        string
	Status        UserStatus
	TwoFactor     TwoFactorMethod
	Anonymous     bool
	HasPassword   bool
	FailedLogins  int
	LockedUntil   time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastLoginAt   time.Time
}

// AuditEvent records one state change or security event.
type AuditEvent struct {
	ID         string
	AppID      string
	Action     string // e.g. "user.signup", "session.refresh"
	Outcome    string // OutcomeSuccess or OutcomeFailure
	ActorID    string // who did it: the user, or a developer
	SubjectID  string // whom it was done to
	IP         string
	Reason     apperr.Reason // machine reason of a failure
	Details    map[string]any
	OccurredAt time.Time
}

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Secret is a string that must never reach a log: passwords, codes, tokens.
type Secret string

// LogValue implements slog.LogValuer so a Secret logs redacted.
func (Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// String returns the redacted form, so %v and %s never print the secret.
func (Secret) String() string { return "[REDACTED]" }

// GoString keeps %#v (and %#v of structs holding a Secret) redacted.
func (Secret) GoString() string { return `"[REDACTED]"` }

// MarshalJSON keeps JSON encodings (slog's JSON handler on a struct
// holding a Secret, say) redacted.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[REDACTED]"`), nil }

// Reveal returns the secret itself, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }
