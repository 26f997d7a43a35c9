package console

import (
	"errors"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// validate checks settings as AppSettings.Validate does, plus what needs
// the server's configuration: the sender's domain. Every bad field is
// named in one Invalid error.
func (s *Service) validate(st identity.AppSettings) error {
	var vs []apperr.Violation
	for _, err := range []error{st.Validate(), identity.CheckSender(st.EmailFrom, s.senders)} {
		if err == nil {
			continue
		}
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind() != apperr.Invalid {
			return err
		}
		vs = append(vs, e.Violations()...)
	}
	return apperr.Fields(apperr.ReasonInvalidArgument, vs)
}
