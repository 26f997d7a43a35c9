package cosyncjwt

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
)

// An Export is what a CosyncJWT export holds that the import uses: the
// ZIP of the server's five CSV files (app, user, signup, invite and
// email-template collections) or user-collection.csv alone.
type Export struct {
	Users   []ExportUser
	Signups []ExportSignup // pending signups (signup-collection.csv)
	Invites []ExportInvite // open invitations (invite-collection.csv)
	// AppToken is the app's token when app-collection.csv carries one.
	AppToken string
	// AppPrivateKey is the RSA key (PEM) CosyncJWT signed the app's jwts
	// with, when app-collection.csv carries it.
	AppPrivateKey identity.Secret
}

// ExportSignup is one pending row of signup-collection.csv.
type ExportSignup struct {
	Line           int
	Handle         string
	PasswordBcrypt string
	Code           identity.Secret
	Locale         string
	MetaData       string
	CreatedAt      time.Time
}

// ExportInvite is one open row of invite-collection.csv.
type ExportInvite struct {
	Line         int
	Handle       string
	SenderHandle string
	Code         identity.Secret
	MetaData     string
	CreatedAt    time.Time
}

// ExportUser is one row of user-collection.csv.
type ExportUser struct {
	Line           int // in user-collection.csv, for the report
	Handle         string
	PasswordBcrypt string // bcrypt of the MD5 hex; empty for social and anonymous users
	Status         string
	Phone          string
	PhoneVerified  bool
	TwoFactorPhone bool
	TwoFactorTOTP  bool
	GoogleSecret   identity.Secret // the authenticator's base32 secret
	MetaData       string          // JSON text, or what the exporter wrote for an object
	Locale         string
	LastLogin      time.Time
	CreatedAt      time.Time
}

// maxExport bounds what ReadExport reads, uncompressed (a million users
// is about 300 MB).
const maxExport = 1 << 30

// ReadExport parses an export from r: a ZIP by its magic number, else the
// user CSV.
func ReadExport(r io.Reader) (Export, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxExport+1))
	if err != nil {
		return Export{}, err
	}
	if len(data) > maxExport {
		return Export{}, errors.New("cosyncjwt: the export is larger than 1 GiB")
	}
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		users, err := readUsers(bytes.NewReader(data))
		return Export{Users: users}, err
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return Export{}, fmt.Errorf("cosyncjwt: reading the ZIP: %w", err)
	}
	var ex Export
	found := false
	for _, f := range zr.File {
		name := path.Base(f.Name)
		rc, err := f.Open()
		if err != nil {
			return Export{}, err
		}
		body := io.LimitReader(rc, maxExport)
		switch name {
		case "user-collection.csv":
			ex.Users, err = readUsers(body)
			found = true
		case "signup-collection.csv":
			err = eachRow(body, "handle", func(line int, row map[string]string) error {
				if row["status"] != "verified" && strings.TrimSpace(row["handle"]) != "" {
					ex.Signups = append(ex.Signups, ExportSignup{
						Line: line, Handle: strings.TrimSpace(row["handle"]), PasswordBcrypt: strings.TrimSpace(row["password"]),
						Code: identity.Secret(strings.TrimSpace(row["code"])), Locale: strings.TrimSpace(row["locale"]),
						MetaData: row["metaData"], CreatedAt: jsDate(row["createdAt"]),
					})
				}
				return nil
			})
		case "invite-collection.csv":
			err = eachRow(body, "handle", func(line int, row map[string]string) error {
				if st := row["status"]; (st == "" || st == "pending") && strings.TrimSpace(row["handle"]) != "" {
					ex.Invites = append(ex.Invites, ExportInvite{
						Line: line, Handle: strings.TrimSpace(row["handle"]), SenderHandle: strings.TrimSpace(row["senderHandle"]),
						Code: identity.Secret(strings.TrimSpace(row["code"])), MetaData: row["metaData"], CreatedAt: jsDate(row["createdAt"]),
					})
				}
				return nil
			})
		case "app-collection.csv":
			err = eachRow(body, "", func(_ int, row map[string]string) error {
				if ex.AppToken == "" {
					ex.AppToken = row["appToken"]
				}
				if ex.AppPrivateKey == "" {
					ex.AppPrivateKey = identity.Secret(strings.TrimSpace(row["appPrivateKey"]))
				}
				return nil
			})
		}
		rc.Close()
		if err != nil {
			return Export{}, fmt.Errorf("cosyncjwt: %s: %w", name, err)
		}
	}
	if !found {
		return Export{}, errors.New("cosyncjwt: the ZIP has no user-collection.csv")
	}
	return ex, nil
}

// eachRow calls fn with each record keyed by the header's titles; the
// header must have the title need.
func eachRow(r io.Reader, need string, fn func(line int, row map[string]string) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		if need == "" {
			return nil
		}
		return fmt.Errorf("empty: no %s column", need)
	}
	if err != nil {
		return err
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	if need != "" && !slices.Contains(header, need) {
		return fmt.Errorf("no %s column: not a CosyncJWT export file", need)
	}
	row := make(map[string]string, len(header))
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		clear(row)
		for i, v := range rec {
			if i < len(header) {
				if _, dup := row[header[i]]; !dup { // a repeated title keeps its first column
					row[header[i]] = v
				}
			}
		}
		if err := fn(line, row); err != nil {
			return err
		}
	}
}

func readUsers(r io.Reader) ([]ExportUser, error) {
	var out []ExportUser
	err := eachRow(r, "handle", func(line int, row map[string]string) error {
		out = append(out, ExportUser{
			Line: line, Handle: row["handle"], PasswordBcrypt: strings.TrimSpace(row["password"]),
			Status: strings.TrimSpace(row["status"]), Phone: strings.TrimSpace(row["phone"]),
			PhoneVerified: row["phoneVerified"] == "true", TwoFactorPhone: row["twoFactorPhoneVerification"] == "true",
			TwoFactorTOTP: row["twoFactorGoogleVerification"] == "true", GoogleSecret: identity.Secret(strings.TrimSpace(row["googleSecretKey"])),
			MetaData: row["metaData"],
			Locale:   strings.TrimSpace(row["locale"]), LastLogin: jsDate(row["lastLogin"]), CreatedAt: jsDate(row["createdAt"]),
		})
		return nil
	})
	return out, err
}

// jsDate parses the export's dates: JavaScript's Date.toString form
// ("Tue Jul 02 2024 10:00:00 GMT+0000 (Coordinated Universal Time)"), or
// ISO 8601. Anything else is the zero time.
func jsDate(s string) time.Time {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, " ("); i > 0 {
		s = s[:i]
	}
	for _, layout := range []string{"Mon Jan 02 2006 15:04:05 GMT-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// metadataOf reads a metaData cell; ok is false when it held something
// other than a JSON object (csv-writer writes an object as "[object Object]").
func metadataOf(cell string) (md map[string]any, ok bool) {
	cell = strings.TrimSpace(cell)
	if cell == "" {
		return map[string]any{}, true
	}
	if err := json.Unmarshal([]byte(cell), &md); err != nil || md == nil {
		return map[string]any{}, false
	}
	return md, true
}
