package main

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1/adminv1connect"
	"github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1/authv1connect"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/rpc"
)

// Request bounds. A body is limited twice: on the wire (http.MaxBytesReader,
// before anything is decoded) and after decompression (connect's
// WithReadMaxBytes with a gzip reader that stops at the same bound), so a
// small gzip body cannot inflate into a large one.
const (
	// authMaxBytes bounds AuthService calls, the CosyncJWT facade, the HTML
	// forms and everything else a stranger can reach: the largest honest
	// request is a signup with its metadata.
	authMaxBytes = 64 << 10
	// adminMaxBytes bounds AdminService calls: templates are the largest
	// of the others.
	adminMaxBytes = 1 << 20
	// invitationsMaxBytes bounds CreateInvitations: its csv may hold 1 MiB
	// (admin.proto), which JSON may carry at twice that (every quote and
	// line break escaped), plus room for the rest; 1,000 listed
	// invitations with metadata fit too.
	invitationsMaxBytes = 2<<20 + 64<<10
	// importMaxBytes bounds ImportCosyncJwtUsers: its export field may hold
	// 64 MiB (admin.proto), which JSON carries as base64 (4/3 as many bytes),
	// plus room for the rest of the message.
	importMaxBytes = 64<<20/3*4 + 64<<10
)

// bodyLimit is the wire bound for a request path.
func bodyLimit(path string) int64 {
	switch {
	case path == adminv1connect.AdminServiceImportCosyncJwtUsersProcedure:
		return importMaxBytes
	case path == adminv1connect.AdminServiceCreateInvitationsProcedure:
		return invitationsMaxBytes
	case strings.HasPrefix(path, "/"+adminv1connect.AdminServiceName+"/"):
		return adminMaxBytes
	}
	return authMaxBytes
}

// withBodyLimit caps every request body at its route's bound. A request
// that declares a longer body is refused before a byte of it is read, in
// the protocol it speaks (Connect, gRPC or gRPC-Web), with
// ResourceExhausted and the reason REQUEST_TOO_LARGE; a body that turns out
// longer than it said, or gives no length, meets an *http.MaxBytesError
// (connect answers ResourceExhausted) and the connection is closed after
// the reply.
func withBodyLimit(next http.Handler) http.Handler {
	errs := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := bodyLimit(r.URL.Path)
		if r.ContentLength > limit && errs.IsSupported(r) {
			err := connect.NewError(connect.CodeResourceExhausted,
				fmt.Errorf("the request body is %d bytes; this route takes at most %d", r.ContentLength, limit))
			if d, derr := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: string(apperr.ReasonRequestTooLarge), Domain: rpc.ErrorDomain}); derr == nil {
				err.AddDetail(d)
			}
			w.Header().Set("Connection", "close") // the unread body is not worth draining
			_ = errs.Write(w, r, err)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// compressMinBytes is the smallest response a handler gzips when the
// client accepts it. A session, the answer of every sign-in and refresh,
// is about 1 KiB in protobuf (1,056 bytes in BenchmarkRefreshChain) and
// more in JSON, mostly a signed JWT and random tokens that gzip barely
// shrinks, so compressing it costs a gzip writer's CPU and allocations for
// a few hundred bytes; the answers that do compress well (user lists,
// audit pages, exports, templates) are larger than this.
const compressMinBytes = 4 << 10

// readBound returns the Connect options that bound a decoded message to max
// bytes, decompressed size included, and compress only responses of at
// least compressMinBytes.
func readBound(max int) []connect.HandlerOption {
	return []connect.HandlerOption{
		connect.WithReadMaxBytes(max),
		connect.WithCompressMinBytes(compressMinBytes),
		connect.WithCompression("gzip",
			func() connect.Decompressor { return &boundedGzip{max: int64(max)} },
			func() connect.Compressor { return gzip.NewWriter(nil) }),
	}
}

// errInflated is what a bounded gzip reader answers once a body has
// inflated past its bound.
var errInflated = errors.New("gzip body inflates past the request size limit")

// boundedGzip is a gzip reader that fails once it has produced more than
// max bytes. Connect stops reading a message at max+1 bytes but then drains
// the decompressor to report the full size, which for a gzip bomb means
// inflating all of it (CPU, though no memory); this reader ends the drain at
// once instead.
type boundedGzip struct {
	gz     *gzip.Reader
	n, max int64
}

func (b *boundedGzip) Read(p []byte) (int, error) {
	if b.n > b.max {
		return 0, errInflated
	}
	if room := b.max + 1 - b.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.gz.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *boundedGzip) Reset(r io.Reader) error {
	b.n = 0
	if b.gz == nil {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		b.gz = gz
		return nil
	}
	return b.gz.Reset(r)
}

func (b *boundedGzip) Close() error {
	if b.gz == nil {
		return nil
	}
	return b.gz.Close()
}

// Every response carries these; an HTML page is thereby never framed
// (clickjacking), never sniffed into another type, and leaks no URL (which
// may hold a code) to the sites it links to. A page that needs more than
// the strict default policy (the portal, the signup landing page) sets its
// own Content-Security-Policy, which replaces this one.
const defaultCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders are set on every response as shared one-element slices
// (keys in canonical form), which costs no allocation per request the way
// Header.Set's fresh slice does. Sharing is safe: Set replaces a value's
// slice and Add to a full one-element slice copies it; nothing writes an
// element in place.
var securityHeaders = [...]struct {
	key   string
	value []string
}{
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Content-Security-Policy", []string{defaultCSP}},
}

func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, sh := range securityHeaders {
			h[sh.key] = sh.value[:1:1]
		}
		next.ServeHTTP(w, r)
	})
}

// expensiveProcedures are the calls that hash a password (argon2id: memory
// for the whole computation) or sign a token or make a key (RSA): the calls
// the gate bounds.
var expensiveProcedures = []string{
	authv1connect.AuthServiceSignUpProcedure,
	authv1connect.AuthServiceCompleteSignUpProcedure,
	authv1connect.AuthServiceLoginProcedure,
	authv1connect.AuthServiceCompleteLoginProcedure,
	authv1connect.AuthServiceLoginAnonymousProcedure,
	authv1connect.AuthServiceSocialLoginProcedure,
	authv1connect.AuthServiceLinkIdentityProcedure,
	authv1connect.AuthServiceRefreshSessionProcedure,
	authv1connect.AuthServiceResetPasswordProcedure,
	authv1connect.AuthServiceChangePasswordProcedure,
	authv1connect.AuthServiceRegisterProcedure,
	authv1connect.AuthServiceDeleteAccountProcedure,
	authv1connect.AuthServiceDisableTwoFactorProcedure,
	adminv1connect.AdminServiceCreateAppProcedure,
	adminv1connect.AdminServiceRotateSigningKeyProcedure,
	adminv1connect.AdminServiceCreateUserProcedure,
	adminv1connect.AdminServiceImportCosyncJwtUsersProcedure,
}

// configureServer gives srv the timeouts and limits of config: headers and
// the whole request must arrive in time (a slow body is cut off and its
// connection closed), idle connections close, and headers are bounded.
// No write timeout: gRPC health Watch streams and a slow client reading a
// reply costs only a goroutine.
func configureServer(srv *http.Server, cfg config.Config, log *slog.Logger) {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv.Protocols = &protocols
	srv.ReadHeaderTimeout = cfg.ReadHeaderTimeout
	srv.ReadTimeout = cfg.ReadTimeout
	srv.IdleTimeout = cfg.IdleTimeout
	srv.MaxHeaderBytes = 64 << 10
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
}
