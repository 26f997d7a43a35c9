package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// slowAcceptListener's Accept notices the close only once the listener has
// been closed twice, so Serve still holds it when Shutdown closes it again.
type slowAcceptListener struct {
	net.Listener
	entered chan struct{}
	enter   sync.Once
	release chan struct{}
	mu      sync.Mutex
	closes  int
}

func (l *slowAcceptListener) Accept() (net.Conn, error) {
	l.enter.Do(func() { close(l.entered) })
	<-l.release
	return l.Listener.Accept()
}

func (l *slowAcceptListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closes++; l.closes == 2 {
		close(l.release)
	}
	return err
}

// TestDrainListenerClosedTwice: when Serve has not yet seen its listener
// closed, Shutdown closes it a second time; the drain is still clean.
func TestDrainListenerClosedTwice(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &slowAcceptListener{Listener: inner, release: make(chan struct{}), entered: make(chan struct{})}
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Second}
	d := newDrainer(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	<-ln.entered // Serve is tracking ln and waiting in Accept
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.drain(ctx, srv, ln); err != nil {
		t.Errorf("drain = %v, want nil", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v, want http.ErrServerClosed", err)
	}
}
