package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/notify"
)

// memOutbox is an in-memory notify.OutboxStore.
type memOutbox struct {
	mu        sync.Mutex
	msgs      []notify.OutboxMessage
	lastLimit int
}

func (s *memOutbox) InsertOutboxMessage(_ context.Context, m notify.OutboxMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *memOutbox) ListOutboxMessages(_ context.Context, appID string, limit int) ([]notify.OutboxMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastLimit = limit
	var out []notify.OutboxMessage
	for _, m := range slices.Backward(s.msgs) {
		if m.AppID == appID && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

// stepClock returns a clock that starts at start and advances a minute per call.
func stepClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Minute)
		return t
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) lines(tb testing.TB) []map[string]any {
	tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(b.b.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			tb.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

func TestOutboxSendAndList(t *testing.T) {
	t.Parallel()
	store := &memOutbox{}
	var logs syncBuffer
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	o := notify.NewOutbox(store, slog.New(slog.NewJSONHandler(&logs, nil)), stepClock(start))

	ctx := t.Context()
	sends := []notify.Message{
		signupMessage(t, "first@example.com", "111111"),
		{AppID: "other", To: "elsewhere@example.com", Subject: "Other app", Text: "not listed"},
		signupMessage(t, "second@example.com", "222222"),
		signupMessage(t, "third@example.com", "333333"),
	}
	for _, m := range sends {
		if err := o.Send(ctx, m); err != nil {
			t.Fatalf("Send(%q): %v", m.To, err)
		}
	}

	got, err := o.List(ctx, "app1", 0)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var to []string
	for _, m := range got {
		to = append(to, m.To)
	}
	if want := []string{"third@example.com", "second@example.com", "first@example.com"}; !slices.Equal(to, want) {
		t.Fatalf("List recipients = %q, want %q (newest first)", to, want)
	}
	newest := got[0]
	if newest.ID == "" || newest.Channel != notify.ChannelEmail || newest.AppID != "app1" {
		t.Errorf("newest = %+v, want an ID, channel email, app app1", newest)
	}
	if want := start.Add(4 * time.Minute); !newest.SentAt.Equal(want) {
		t.Errorf("newest SentAt = %v, want %v (from the injected clock)", newest.SentAt, want)
	}
	if newest.Subject != "Your Acme code: 333333" || !strings.Contains(newest.Text, "333333") || !strings.Contains(newest.HTML, "333333") {
		t.Errorf("newest = subject %q text %q html %q; want the rendered signup code", newest.Subject, newest.Text, newest.HTML)
	}
	if got[0].ID <= got[1].ID {
		t.Errorf("IDs %q, %q: want time-ordered IDs", got[1].ID, got[0].ID)
	}

	recs := logs.lines(t)
	if len(recs) != len(sends) {
		t.Fatalf("logged %d lines, want %d", len(recs), len(sends))
	}
	last := recs[len(recs)-1]
	if last["level"] != "INFO" || last["to"] != "third@example.com" || last["subject"] != "Your Acme code: 333333" {
		t.Errorf("log line = %v, want INFO with to and subject", last)
	}
	if text, _ := last["text"].(string); !strings.Contains(text, "333333") {
		t.Errorf("log line text = %q, want the code", text)
	}
	if last["app_id"] != "app1" || last["channel"] != "email" {
		t.Errorf("log line = %v, want app_id and channel", last)
	}
}

func TestOutboxListLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		limit, want int
	}{
		{0, notify.DefaultOutboxLimit},
		{-3, notify.DefaultOutboxLimit},
		{1, 1},
		{200, 200},
		{500, 500},
		{501, notify.MaxOutboxLimit},
		{100000, notify.MaxOutboxLimit},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.limit), func(t *testing.T) {
			t.Parallel()
			store := &memOutbox{}
			o := notify.NewOutbox(store, nil, nil)
			if _, err := o.List(t.Context(), "app1", tt.limit); err != nil {
				t.Fatalf("List(limit %d): %v", tt.limit, err)
			}
			if store.lastLimit != tt.want {
				t.Errorf("List(limit %d) asked the store for %d, want %d", tt.limit, store.lastLimit, tt.want)
			}
		})
	}
}

func TestOutboxRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    notify.Message
	}{
		{"no recipient", notify.Message{AppID: "app1", Subject: "s", Text: "t"}},
		{"bad recipient", notify.Message{AppID: "app1", To: "jane", Subject: "s", Text: "t"}},
		{"no body", notify.Message{AppID: "app1", To: "jane@example.com", Subject: "s"}},
		{"bad sender", notify.Message{AppID: "app1", From: "no one", To: "jane@example.com", Subject: "s", Text: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := &memOutbox{}
			o := notify.NewOutbox(store, nil, nil)
			err := o.Send(t.Context(), tt.m)
			if apperr.KindOf(err) != apperr.Invalid {
				t.Errorf("Send = %v, want an invalid error", err)
			}
			if len(store.msgs) != 0 {
				t.Errorf("store kept %d messages, want 0", len(store.msgs))
			}
		})
	}
}

func TestOutboxSendSMS(t *testing.T) {
	t.Parallel()
	store := &memOutbox{}
	var logs syncBuffer
	o := notify.NewOutbox(store, slog.New(slog.NewJSONHandler(&logs, nil)), nil)
	if err := o.SendSMS(t.Context(), "app1", "+15555550100", "123456 is your Acme code"); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	got, err := o.List(t.Context(), "app1", 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("List = %v, %v; want one message", got, err)
	}
	if got[0].Channel != notify.ChannelSMS || got[0].To != "+15555550100" || got[0].Text != "123456 is your Acme code" {
		t.Errorf("kept %+v, want the SMS", got[0])
	}
	if recs := logs.lines(t); len(recs) != 1 || recs[0]["channel"] != "sms" || recs[0]["text"] != "123456 is your Acme code" {
		t.Errorf("log = %v, want one sms line with the text", recs)
	}
	if err := o.SendSMS(t.Context(), "app1", "", "x"); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("SendSMS(no number) = %v, want an invalid error", err)
	}
}

func TestOutboxConcurrent(t *testing.T) {
	t.Parallel()
	store := &memOutbox{}
	var logs syncBuffer
	o := notify.NewOutbox(store, slog.New(slog.NewJSONHandler(&logs, nil)), nil)
	m := signupMessage(t, "jane@example.com", "123456")
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if err := o.Send(t.Context(), m); err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := o.List(t.Context(), "app1", 0)
	if err != nil || len(got) != 16 {
		t.Fatalf("List = %d messages, %v; want 16", len(got), err)
	}
	ids := map[string]bool{}
	for _, m := range got {
		ids[m.ID] = true
	}
	if len(ids) != 16 {
		t.Errorf("%d distinct IDs, want 16", len(ids))
	}
}
