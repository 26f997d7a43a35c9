package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// drainer shuts an http.Server down without dropping a request it has
// read. http.Server.Shutdown alone drops one: a connection accepted before
// the shutdown whose first request (or, on a keep-alive connection, next
// request) is read after it began is closed unanswered — the client sees
// EOF. So drain stops accepting first, turns keep-alives off (every
// connection closes after the response it is writing), waits until every
// connection accepted has read its first request, and only then calls
// Shutdown, which waits for the requests in flight.
type drainer struct {
	mu    sync.Mutex
	fresh map[net.Conn]bool // accepted, first request not read yet
}

func newDrainer(srv *http.Server) *drainer {
	d := &drainer{fresh: map[net.Conn]bool{}}
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if s == http.StateNew {
			d.fresh[c] = true
		} else {
			delete(d.fresh, c)
		}
	}
	return d
}

func (d *drainer) freshConns() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.fresh)
}

// drain closes ln (srv.Serve then returns net.ErrClosed), lets the
// connections accepted finish what they were sent, and shuts srv down, all
// within ctx.
func (d *drainer) drain(ctx context.Context, srv *http.Server, ln net.Listener) error {
	if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	srv.SetKeepAlivesEnabled(false) // also closes the idle connections
	// A fresh connection reads its request within ReadHeaderTimeout, or the
	// server closes it; ctx bounds the wait either way.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for d.freshConns() > 0 {
		select {
		case <-ctx.Done():
			return shutdown(ctx, srv)
		case <-tick.C:
		}
	}
	return shutdown(ctx, srv)
}

// shutdown is srv.Shutdown without the error of closing ln a second time:
// when Serve has not yet seen its listener closed, Shutdown closes it again
// (and still waits for the connections) and reports net.ErrClosed.
func shutdown(ctx context.Context, srv *http.Server) error {
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}
