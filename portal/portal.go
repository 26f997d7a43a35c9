// Package portal serves the developer portal, a single-page web app built by
// Vite from this folder's sources into dist/app and embedded in the binary.
//
// When the bundle was not built (a plain `go build ./server` on a machine
// without Node), Handler serves dist/placeholder.html, which says how to build
// it, so the server always compiles and always answers at /.
package portal

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// dist holds the committed placeholder and, after scripts/build-portal.sh,
// the bundle under dist/app (ignored by git).
//
//go:embed all:dist
var dist embed.FS

// ContentSecurityPolicy allows only the portal's own origin: scripts, styles
// and API calls come from the server that serves the page, nothing is inline,
// and no other site may frame it. Images may also be data: URLs (previews of
// mail templates and TOTP QR codes).
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler returns the handler that serves the portal at /: the embedded
// bundle when it was built, else the placeholder page. It answers GET and
// HEAD only. Safe for concurrent use.
func Handler() http.Handler {
	return newHandler(dist)
}

// Built reports whether the binary carries the portal bundle.
func Built() bool {
	_, err := fs.Stat(dist, "dist/app/index.html")
	return err == nil
}

// newHandler serves the bundle in fsys/dist/app, or fsys/dist/placeholder.html.
func newHandler(fsys fs.FS) http.Handler {
	app, err := fs.Sub(fsys, "dist/app")
	if err == nil {
		if _, err = fs.Stat(app, "index.html"); err != nil {
			app = nil
		}
	}
	if app == nil {
		page, err := fs.ReadFile(fsys, "dist/placeholder.html")
		if err != nil {
			page = []byte("<!doctype html><title>CoSync Auth</title><p>The portal is not built: run scripts/build-portal.sh, then go build ./server.</p>\n")
		}
		return &handler{index: page, etag: etagOf(page)}
	}
	index, _ := fs.ReadFile(app, "index.html")
	return &handler{files: app, index: index, etag: etagOf(index)}
}

type handler struct {
	files fs.FS  // the bundle; nil when serving the placeholder
	index []byte // index.html, or the placeholder page
	etag  string // of index, so a no-cache revalidation costs a 304
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" || name == "index.html" {
		h.serveIndex(w, r)
		return
	}
	if h.files == nil {
		http.NotFound(w, r)
		return
	}
	f, err := h.files.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	// Vite names everything under assets/ by its content hash, so a name
	// never changes meaning: browsers may keep it for a year without asking.
	// Anything else (icons, robots.txt) is revalidated.
	if strings.HasPrefix(name, "assets/") {
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hdr.Set("Cache-Control", "no-cache")
	}
	rs, ok := f.(readSeeker)
	if !ok {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, name, time.Time{}, rs)
}

// serveIndex serves index.html (or the placeholder) so that every visit asks
// again: a new deploy's page, naming new hashed assets, is seen at once.
func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("ETag", h.etag)
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(h.index))
}

type readSeeker interface {
	Read([]byte) (int, error)
	Seek(int64, int) (int64, error)
}
