package identity

import (
	"context"
)

// Audit records every state change and failed attempt.
type Audit interface {
	InsertAuditEvent(ctx context.Context, e AuditEvent) error
}
