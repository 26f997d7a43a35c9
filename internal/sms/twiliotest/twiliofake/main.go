// Command twiliofake runs twiliotest's fake Twilio on a local port, so SMS
// can be tried by hand: point the server at it with COSYNC_TWILIO_API_URL,
// give the application the account below, and read what was texted with
// `curl http://127.0.0.1:8081/messages`.
//
//	go run ./internal/sms/twiliotest/twiliofake --addr 127.0.0.1:8081 \
//	  --account-sid AC00000000000000000000000000000001 --auth-token 0123456789abcdef0123456789abcdef
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/cosync/cosync-auth/internal/sms/twiliotest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	sid := flag.String("account-sid", "AC00000000000000000000000000000001", "the one account SID it accepts")
	token := flag.String("auth-token", "0123456789abcdef0123456789abcdef", "that account's auth token")
	flag.Parse()
	s := twiliotest.New()
	s.AddAccount(*sid, *token)
	log.Printf("fake Twilio on http://%s (account %s); GET /messages lists what was sent", *addr, *sid)
	srv := &http.Server{Addr: *addr, Handler: s, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
