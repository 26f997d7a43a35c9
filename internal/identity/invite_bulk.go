package identity

// A developer's invitations in bulk: up to MaxInvitationsPerCall at once,
// as a list or as CSV text. Every row is checked before anything is
// stored; the whole call counts against the daily limits, and its
// invitations, notices, mails and audit events are written in one
// transaction, so a call either sends all or changes nothing. The mails go
// through the send queue like every other.

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net/mail"
	"slices"
	"strconv"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/otp"
	"github.com/cosync/cosync-auth/internal/templates"
)

// CreateInvitations invites many emails for a developer (admin or owner).
// Every input is checked before anything is sent, so one bad entry sends
// none; an email given twice is refused; emails that already have an
// account get a notice and no invitation. A call takes at most
// MaxInvitationsPerCall, and every address counts against the app's and
// the developer's daily limits; a refused call counts nothing.
func (s *Service) CreateInvitations(ctx context.Context, d Developer, appID string, ins []InviteInput) ([]Invitation, error) {
	if len(ins) > MaxInvitationsPerCall {
		return nil, apperr.Field("invitations", fmt.Sprintf("must hold at most %d invitations per call", MaxInvitationsPerCall))
	}
	m, err := s.bulkInviter(ctx, d, appID)
	if err != nil {
		return nil, err
	}
	ins = slices.Clone(ins) // the checked metadata replaces the caller's
	var vs []apperr.Violation
	seen := map[string]int{}
	for i, in := range ins {
		md, err := checkMetadata(m.Settings.InviteMetadataFields, in.Metadata, true)
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) {
				return nil, err
			}
			for _, v := range e.Violations() {
				vs = append(vs, apperr.Violation{Field: fmt.Sprintf("invitations[%d].%s", i, v.Field), Description: v.Description})
			}
		}
		ins[i].Metadata = md
		if _, err := PickLocale(m.App, in.Locale); err != nil {
			vs = append(vs, apperr.Violation{Field: "locale", Description: "is not one of this application's locales"})
		}
		email := NormalizeEmail(in.Handle)
		if j, ok := seen[email]; ok {
			vs = append(vs, apperr.Violation{Field: fmt.Sprintf("invitations[%d].handle", i), Description: fmt.Sprintf("repeats invitations[%d]", j)})
		}
		seen[email] = i
	}
	if err := apperr.Fields(apperr.ReasonMetadataInvalid, vs); err != nil {
		return nil, err
	}
	return s.sendInvitations(ctx, d, m.App, ins)
}

// CreateInvitationsCSV is CreateInvitations from CSV text (RFC 4180): a
// header row naming an `email` (or `handle`) column and any of the app's
// invite metadata fields by path, then one row per invitation, each value
// typed by its field (number, true/false). Errors name the field `csv`
// and the line: "line 7: email: must be an email address".
func (s *Service) CreateInvitationsCSV(ctx context.Context, d Developer, appID, text, locale string) ([]Invitation, error) {
	m, err := s.bulkInviter(ctx, d, appID)
	if err != nil {
		return nil, err
	}
	if _, err := PickLocale(m.App, locale); err != nil {
		return nil, err
	}
	ins, vs := parseInvitationsCSV(m.Settings.InviteMetadataFields, text)
	if err := apperr.Fields(apperr.ReasonInvalidArgument, vs); err != nil {
		return nil, err
	}
	for i := range ins {
		ins[i].Locale = locale
	}
	return s.sendInvitations(ctx, d, m.App, ins)
}

// bulkInviter returns the app if d may invite to it in bulk.
func (s *Service) bulkInviter(ctx context.Context, d Developer, appID string) (MemberApp, error) {
	m, err := s.member(ctx, d, appID, RoleAdmin)
	if err != nil {
		return MemberApp{}, err
	}
	if !m.Settings.InvitesEnabled {
		return MemberApp{}, apperr.New(apperr.Precondition, apperr.ReasonInvitesDisabled, "invitations are disabled for this application")
	}
	return m, nil
}

// sendInvitations counts, prepares and stores checked invitations (their
// metadata already as checkMetadata returned it) in one transaction.
func (s *Service) sendInvitations(ctx context.Context, d Developer, a App, ins []InviteInput) ([]Invitation, error) {
	const op = "identity.CreateInvitations"
	if len(ins) == 0 {
		return nil, nil
	}
	if err := s.takeInvites(ctx, d, a.ID, len(ins)); err != nil {
		return nil, err
	}
	giveBack := func() { s.giveCounts(ctx, s.inviteCounts(d, a.ID, len(ins))...) }
	var ivs []Invitation
	var mails []Delivery
	now := s.clock()
	for _, in := range ins {
		email := NormalizeEmail(in.Handle)
		locale, err := PickLocale(a, in.Locale)
		if err != nil {
			giveBack()
			return nil, err
		}
		existing, err := s.store.FindUserByEmail(ctx, a.ID, email)
		switch {
		case err == nil: // a notice instead, as Invite does
			notice, err := s.mail(ctx, a, existing.Locale, templates.KindAccountExists, existing.Email, templates.Vars{AppName: a.Name, Handle: existing.Email})
			if err != nil {
				giveBack()
				return nil, err
			}
			mails = append(mails, notice)
			continue
		case !apperr.Is(err, apperr.NotFound):
			giveBack()
			return nil, err
		}
		code, err := otp.NewCode()
		if err != nil {
			giveBack()
			return nil, apperr.Wrap(err, apperr.Internal, op)
		}
		iv := Invitation{
			ID: newID(), AppID: a.ID, Handle: email, Hash: s.codeHash(a, purposeInvite, email, code),
			Metadata: in.Metadata, Locale: locale, CreatedAt: now, ExpiresAt: now.Add(a.Settings.InviteLifetime),
		}
		if iv.Metadata == nil {
			iv.Metadata = map[string]any{}
		}
		m, err := s.inviteMail(ctx, a, iv, code)
		if err != nil {
			giveBack()
			return nil, err
		}
		ivs, mails = append(ivs, iv), append(mails, m)
	}
	err := s.store.InTx(ctx, func(tx Store) error {
		for _, iv := range ivs {
			if err := tx.CreateInvitation(ctx, iv); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "invite.create", ActorID: d.ActorID(), SubjectID: iv.ID, IP: d.IP}); err != nil {
				return err
			}
		}
		return enqueue(ctx, tx, mails...)
	})
	if err != nil {
		giveBack()
		return nil, err
	}
	s.queued()
	return ivs, nil
}

// parseInvitationsCSV reads CSV text into invitations, checking every row
// against the app's invite metadata fields; each problem is a violation
// of `csv` naming its line.
func parseInvitationsCSV(fields []MetadataField, text string) ([]InviteInput, []apperr.Violation) {
	var vs []apperr.Violation
	bad := func(line int, format string, args ...any) {
		vs = append(vs, apperr.Violation{Field: "csv", Description: fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, args...)})
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\ufeff"))) // spreadsheets write a BOM
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, []apperr.Violation{{Field: "csv", Description: "is empty; its first row names the columns: email, then invite metadata field paths"}}
	}
	if err != nil {
		return nil, []apperr.Violation{{Field: "csv", Description: csvError(err)}}
	}
	byPath := map[string]MetadataField{}
	var paths []string
	for _, f := range fields {
		byPath[f.Path] = f
		paths = append(paths, f.Path)
	}
	handleCol, handleName := -1, ""
	cols := map[int]MetadataField{}
	named := map[string]bool{}
	for i, h := range header {
		name := strings.TrimSpace(h)
		switch f, ok := byPath[name]; {
		case named[strings.ToLower(name)]:
			bad(1, "column %q appears twice", name)
		case strings.EqualFold(name, "email") || strings.EqualFold(name, "handle"):
			if handleCol >= 0 {
				bad(1, "give one of the columns email and handle, not both")
			}
			handleCol, handleName = i, strings.ToLower(name)
		case ok:
			cols[i] = f
		default:
			known := "none are defined"
			if len(paths) > 0 {
				known = "they are " + strings.Join(paths, ", ")
			}
			bad(1, "column %q is not an invite metadata field of this application (%s)", name, known)
		}
		named[strings.ToLower(name)] = true
	}
	if handleCol < 0 {
		bad(1, "needs an email column")
	}
	if len(vs) > 0 {
		return nil, vs
	}
	var ins []InviteInput
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			vs = append(vs, apperr.Violation{Field: "csv", Description: csvError(err)})
			if errors.Is(err, csv.ErrFieldCount) {
				continue // the row is whole; the next one can be read
			}
			break
		}
		line, _ := r.FieldPos(0)
		if len(ins) == MaxInvitationsPerCall {
			vs = append(vs, apperr.Violation{Field: "csv", Description: fmt.Sprintf("must hold at most %d rows after the header", MaxInvitationsPerCall)})
			break
		}
		handle := strings.TrimSpace(rec[handleCol])
		if err := checkInviteEmail(handle); err != nil {
			bad(line, "%s: %s", handleName, err)
		} else if first, ok := seen[NormalizeEmail(handle)]; ok {
			bad(line, "%s: repeats line %d", handleName, first)
		} else {
			seen[NormalizeEmail(handle)] = line
		}
		md := map[string]any{}
		typed := true
		for i, f := range cols {
			v := strings.TrimSpace(rec[i])
			if v == "" {
				continue // absent; a required field is named below
			}
			val, err := csvValue(f.Type, v)
			if err != nil {
				bad(line, "%s: %s", f.Path, err)
				typed = false
				continue
			}
			setPath(md, f.Path, val)
		}
		if typed {
			if md, err = checkMetadata(fields, md, true); err != nil {
				var e *apperr.Error
				if !errors.As(err, &e) {
					return nil, []apperr.Violation{{Field: "csv", Description: fmt.Sprintf("line %d: %v", line, err)}}
				}
				for _, v := range e.Violations() {
					bad(line, "%s: %s", strings.TrimPrefix(v.Field, "metadata."), v.Description)
				}
			}
		}
		ins = append(ins, InviteInput{Handle: handle, Metadata: md})
	}
	if len(ins) == 0 && len(vs) == 0 {
		bad(1, "has no rows after the header")
	}
	return ins, vs
}

// csvError words a CSV syntax error with its line.
func csvError(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %v", pe.StartLine, pe.Err)
	}
	return err.Error()
}

// csvValue types a CSV cell as its metadata field says.
func csvValue(t FieldType, v string) (any, error) {
	switch t {
	case FieldNumber:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("must be a number")
		}
		return f, nil
	case FieldBool:
		switch strings.ToLower(v) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0":
			return false, nil
		}
		return nil, errors.New("must be true or false")
	}
	return v, nil
}

// checkInviteEmail accepts what the contract's InvitationInput.handle
// does: a bare address (no display name) of at most 254 bytes that mail
// can be delivered to (no dot at the start or end of the name, no two
// dots in a row).
func checkInviteEmail(s string) error {
	bad := errors.New("must be an email address")
	if s == "" || len(s) > 254 {
		return bad
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return bad
	}
	local, domain, _ := strings.Cut(s, "@")
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(s, "..") || domain == "" || strings.ContainsAny(s, " \"") {
		return bad
	}
	return nil
}
