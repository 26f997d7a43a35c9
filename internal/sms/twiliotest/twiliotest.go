// Package twiliotest is a local stand-in for Twilio's Messages API, for
// tests and for trying SMS by hand: it takes the form-encoded POST to
// /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic auth,
// answers with Twilio's JSON (201 and a message resource, or Twilio's
// error shape), keeps what was sent so a test can read the code in it, and
// can be told to fail the way Twilio does: 401, 429, 500 or no answer.
//
// GET /messages (not a Twilio endpoint) lists what was sent, newest first,
// as JSON, for reading codes with curl.
package twiliotest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message the server accepted.
type Message struct {
	SID                 string    `json:"sid"`
	AccountSID          string    `json:"account_sid"`
	To                  string    `json:"to"`
	From                string    `json:"from,omitempty"`
	MessagingServiceSID string    `json:"messaging_service_sid,omitempty"`
	Body                string    `json:"body"`
	SentAt              time.Time `json:"sent_at"`
}

// Failure is how the server answers every Messages request until changed.
type Failure int

// The failures Twilio shows.
const (
	OK           Failure = iota // accept and keep messages
	Unauthorized                // 401, error 20003
	RateLimited                 // 429, error 20429
	ServerError                 // 500, error 20500
	Hang                        // no answer until the client gives up
)

// Server is a fake Twilio. Its zero value is not usable; call New. It is
// safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	accounts map[string]string // account SID → auth token
	messages []Message
	failure  Failure
	requests int
	closed   chan struct{}
	once     sync.Once
}

// New returns a server that knows no accounts yet.
func New() *Server {
	return &Server{accounts: map[string]string{}, closed: make(chan struct{})}
}

// Start serves s on a local port for tb and returns its base URL (what
// twilio-go's requests are pointed at). Cleanup stops it.
func Start(tb testing.TB, s *Server) string {
	tb.Helper()
	srv := httptest.NewServer(s)
	tb.Cleanup(func() { s.Close(); srv.Close() })
	return srv.URL
}

// Close releases requests held by Hang.
func (s *Server) Close() { s.once.Do(func() { close(s.closed) }) }

// AddAccount makes sid and token valid credentials.
func (s *Server) AddAccount(sid, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[sid] = token
}

// Fail sets how the next requests are answered.
func (s *Server) Fail(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = f
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// To returns the messages sent to the number to, oldest first.
func (s *Server) To(to string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// Requests counts the Messages requests received, failed ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

var (
	messagesPath = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+)/Messages\.json$`)
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// ServeHTTP implements Twilio's create-message endpoint and GET /messages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/messages" && r.Method == http.MethodGet {
		ms := s.Messages()
		for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
			ms[i], ms[j] = ms[j], ms[i]
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"messages": ms})
		return
	}
	m := messagesPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if r.Method != http.MethodPost {
		twilioError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	s.mu.Lock()
	s.requests++
	failure := s.failure
	token, known := s.accounts[m[1]]
	s.mu.Unlock()

	switch failure {
	case Unauthorized:
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	case RateLimited:
		twilioError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
		return
	case ServerError:
		twilioError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || !known || user != m[1] || pass != token {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		twilioError(w, http.StatusBadRequest, 20001, "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		twilioError(w, http.StatusBadRequest, 20001, "Malformed form body")
		return
	}
	msg := Message{
		AccountSID: m[1], To: r.PostForm.Get("To"), From: r.PostForm.Get("From"),
		MessagingServiceSID: r.PostForm.Get("MessagingServiceSid"), Body: r.PostForm.Get("Body"),
		SentAt: time.Now().UTC(),
	}
	switch {
	case msg.To == "":
		twilioError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !e164.MatchString(msg.To):
		twilioError(w, http.StatusBadRequest, 21211, fmt.Sprintf("Invalid 'To' Phone Number: %s", msg.To))
		return
	case msg.From == "" && msg.MessagingServiceSID == "":
		twilioError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case msg.Body == "":
		twilioError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	}
	msg.SID = "SM" + randomHex(16)
	s.mu.Lock()
	s.messages = append(s.messages, msg)
	s.mu.Unlock()

	now := msg.SentAt.Format(time.RFC1123Z)
	uri := fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s", msg.AccountSID, msg.SID)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"account_sid": msg.AccountSID, "api_version": "2010-04-01", "body": msg.Body,
		"date_created": now, "date_updated": now, "date_sent": nil, "direction": "outbound-api",
		"error_code": nil, "error_message": nil, "from": nullable(msg.From),
		"messaging_service_sid": nullable(msg.MessagingServiceSID), "num_media": "0", "num_segments": "1",
		"price": nil, "price_unit": "USD", "sid": msg.SID, "status": "queued", "to": msg.To,
		"subresource_uris": map[string]string{"media": uri + "/Media.json"}, "uri": uri + ".json",
	})
}

// twilioError writes Twilio's error JSON.
func twilioError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": message, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
