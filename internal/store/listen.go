package store

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// notifyChannel is the Postgres channel on which replicas announce
// changes, as "kind:id" (see ChangeApp, ChangeKeys).
const notifyChannel = "cosync_changes"

// listenPing is how long the listener waits for a notification before it
// sends itself one: a connection that does not deliver that one within
// another listenPing is taken for dead, so a silent network failure costs
// at most two of them before the caches stop trusting themselves.
const listenPing = 2 * time.Second

// Listen keeps this Store's caches in step with the other replicas until
// ctx ends: on Postgres it LISTENs for the changes they announce and
// applies them (OnChange hooks included); while the listening connection
// is down the app cache is read through, and every reconnect drops what
// the caches held, since announcements may have been missed meanwhile.
// Until Listen has connected once, a Postgres Store caches nothing. On
// SQLite (one process) it returns at once. It returns when ctx ends.
func (s *Store) Listen(ctx context.Context) {
	if s.dialect != Postgres || s.inTx {
		return
	}
	for retry := 100 * time.Millisecond; ctx.Err() == nil; retry = min(2*retry, 5*time.Second) {
		err := s.listenOnce(ctx)
		s.cache.setReady(false)
		if ctx.Err() != nil {
			return
		}
		s.log.WarnContext(ctx, "store: change listener lost; caches read through until it is back", "err", err, "retry_in", retry.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}

// listenOnce runs one listening connection until it fails or ctx ends.
func (s *Store) listenOnce(ctx context.Context) error {
	ln := pgdriver.NewListener(s.db)
	defer ln.Close()
	if err := ln.Listen(ctx, notifyChannel); err != nil {
		return err
	}
	// Listening before the caches come on: whatever commits from here on
	// is announced to us.
	s.cache.setReady(true)
	s.log.DebugContext(ctx, "store: change listener connected")
	pinged := false
	for {
		channel, payload, err := ln.ReceiveTimeout(ctx, listenPing)
		switch {
		case err == nil:
			pinged = false
			if channel != notifyChannel || payload == "ping" {
				continue
			}
			kind, id, _ := strings.Cut(payload, ":")
			if kind == changeMark {
				s.cache.marked(id)
				continue
			}
			s.cache.apply(kind, id)
		case ctx.Err() != nil:
			return ctx.Err()
		case isTimeout(err) && !pinged:
			pinged = true
			if err := pgdriver.Notify(ctx, s.db, notifyChannel, "ping"); err != nil {
				return err
			}
		default:
			return err // a broken connection, or our own ping never came back
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
