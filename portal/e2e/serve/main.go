// Command serve is the portal journeys' stand-in for the server's mux until
// the server mounts portal.Handler() itself: it serves the embedded portal at
// / and passes the API paths to a running cosync-auth, so the browser sees
// one origin, exactly as it will when the server serves both.
//
//	serve -addr 127.0.0.1:0 -api http://127.0.0.1:8080
//
// It prints "portal listening on http://HOST:PORT" once it accepts connections.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"

	"github.com/cosync/cosync-auth/portal"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	api := flag.String("api", "http://127.0.0.1:8080", "the cosync-auth server to pass API calls to")
	flag.Parse()
	target, err := url.Parse(*api)
	if err != nil || target.Host == "" {
		log.Fatalf("serve: -api %q is not a URL", *api)
	}
	if !portal.Built() {
		fmt.Fprintln(os.Stderr, "serve: this binary has no portal bundle (run scripts/build-portal.sh, then rebuild); serving the placeholder")
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	mux := http.NewServeMux()
	for _, p := range []string{"/cosync.auth.v1.AuthService/", "/cosync.admin.v1.AdminService/", "/apps/", "/healthz", "/readyz"} {
		mux.Handle(p, proxy)
	}
	mux.Handle("/", portal.Handler())
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("serve: %v", err)
	}
	log.Printf("portal listening on http://%s", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
