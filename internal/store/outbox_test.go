package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func TestOutbox(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")

		var sent []notify.OutboxMessage // oldest first
		for i := range 5 {
			m := notify.OutboxMessage{
				ID: fmt.Sprintf("m%d", i), AppID: "app1", Channel: "email", To: "ada@example.com",
				Subject: fmt.Sprintf("Code %d", i), Text: "Your code is 123456", HTML: "<p>Your code is <b>123456</b></p>",
				SentAt: t0.Add(time.Duration(i) * time.Second),
			}
			if i == 3 {
				m.Channel, m.To, m.Subject, m.HTML = "sms", "+15551234567", "", ""
			}
			sent = append(sent, m)
		}
		for _, i := range []int{2, 0, 4, 1, 3} {
			noErr(t, "InsertOutboxMessage", s.InsertOutboxMessage(ctx, sent[i]))
		}
		noErr(t, "InsertOutboxMessage(other app)", s.InsertOutboxMessage(ctx, notify.OutboxMessage{ID: "x", AppID: "app2", Channel: "email", To: "x", SentAt: t0.Add(time.Hour)}))
		wantKind(t, "InsertOutboxMessage(same id)", s.InsertOutboxMessage(ctx, sent[0]), apperr.Exists)
		wantKind(t, "InsertOutboxMessage(unknown app)", s.InsertOutboxMessage(ctx, notify.OutboxMessage{ID: "y", AppID: "nope", SentAt: t0}), apperr.NotFound)

		tests := []struct {
			limit int
			want  []notify.OutboxMessage
		}{
			{3, []notify.OutboxMessage{sent[4], sent[3], sent[2]}},
			{10, []notify.OutboxMessage{sent[4], sent[3], sent[2], sent[1], sent[0]}},
			{0, []notify.OutboxMessage{sent[4], sent[3], sent[2], sent[1], sent[0]}},
		}
		for _, tt := range tests {
			got, err := s.ListOutboxMessages(ctx, "app1", tt.limit)
			noErr(t, "ListOutboxMessages", err)
			equal(t, fmt.Sprintf("ListOutboxMessages(limit %d)", tt.limit), got, tt.want)
		}
		got, err := s.ListOutboxMessages(ctx, "nope", 10)
		if err != nil || len(got) != 0 {
			t.Errorf("ListOutboxMessages(unknown app) = %v, %v; want empty, nil", got, err)
		}
	})
}
