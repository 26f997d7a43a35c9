package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// appCacheTTL bounds how long a cached app row is trusted without word of a
// change. Changes made through a Store are seen at once on its replica and,
// on Postgres, within the notification's round trip on every other one
// (listen.go); the TTL only covers writers that bypass both (another
// process on the same SQLite file, a hand-written UPDATE).
const appCacheTTL = 30 * time.Second

// cache holds the app rows GetApp reads on every Auth call, shared by a
// Store and the transaction Stores it hands out. Reads inside a
// transaction never use it. A change is dropped from it after its
// transaction commits (a read racing the commit cannot put the old row
// back: each drop advances gen, and a load started before it is not kept),
// and, on Postgres, announced to the other replicas in the same
// transaction (NOTIFY is delivered on commit).
type cache struct {
	mu    sync.Mutex
	apps  map[string]cachedApp
	gen   uint64
	ready bool // false while a Postgres listener is down: read through
	now   func() time.Time
	hooks []func(kind, id string)  // told of every change, local or announced
	marks map[string]chan struct{} // AwaitChanges' markers on their way back
}

// cachedApp is an app decoded once; readers get deep copies (clone.go),
// which cost a fraction of decoding its settings again.
type cachedApp struct {
	app     identity.App
	expires time.Time
}

// Kinds of change a Store announces, with the id they name.
const (
	ChangeApp  = "app"  // an app's row (name, settings) changed or went
	ChangeKeys = "keys" // an app's signing keys changed
	ChangeAll  = "*"    // anything may have changed (a listener reconnected)
)

func newCache(ready bool) *cache {
	return &cache{apps: map[string]cachedApp{}, ready: ready, now: time.Now, marks: map[string]chan struct{}{}}
}

// OnChange registers fn to be called with every change this Store makes
// (after its transaction commits) and, on Postgres, every change another
// replica announces: (ChangeApp or ChangeKeys, app id), or (ChangeAll, "")
// when notifications may have been missed. fn must be quick and safe for
// concurrent use; register before serving.
func (s *Store) OnChange(fn func(kind, id string)) {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	s.cache.hooks = append(s.cache.hooks, fn)
}

// getCachedApp is GetApp through the cache.
func (s *Store) getCachedApp(ctx context.Context, id string) (identity.App, error) {
	const op = "store.GetApp"
	c := s.cache
	c.mu.Lock()
	e, ok := c.apps[id]
	ready, gen := c.ready, c.gen
	c.mu.Unlock()
	if ok && ready && c.now().Before(e.expires) {
		return deepCopy(e.app), nil
	}
	var row appRow
	ctx, cancel := s.hot(ctx) // every request reads its app: bounded as the hot paths are (prepared.go)
	defer cancel()
	if err := s.idb.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return identity.App{}, wrap(err, op)
	}
	a, err := appFromRow(row, op)
	if err != nil {
		return identity.App{}, err
	}
	c.mu.Lock()
	if c.ready && c.gen == gen {
		c.apps[id] = cachedApp{app: a, expires: c.now().Add(appCacheTTL)}
	}
	c.mu.Unlock()
	return deepCopy(a), nil
}

// AppExists reports whether the app id exists, through the cache: a fresh
// cached app answers without copying its settings (what GetApp pays on
// every call), which is the whole cost of a cached read for the public
// documents (JWKS, OpenID configuration) that only need to know the app is
// there. A miss loads and caches the row as GetApp does.
func (s *Store) AppExists(ctx context.Context, id string) (bool, error) {
	if !s.inTx {
		c := s.cache
		c.mu.Lock()
		e, ok := c.apps[id]
		fresh := ok && c.ready && c.now().Before(e.expires)
		c.mu.Unlock()
		if fresh {
			return true, nil
		}
	}
	_, err := s.GetApp(ctx, id)
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// appFromRow decodes a row's settings.
func appFromRow(row appRow, op string) (identity.App, error) {
	a, err := row.app()
	if err != nil {
		return identity.App{}, apperr.Wrap(err, apperr.Internal, op)
	}
	return a, nil
}

// announce records that this Store changed (kind, id): in a transaction it
// is announced to other replicas now (delivered on commit) and applied
// locally after commit; outside one, both at once.
func (s *Store) announce(ctx context.Context, kind, id string) error {
	if s.dialect == Postgres {
		if _, err := s.idb.ExecContext(ctx, "SELECT pg_notify(?, ?)", notifyChannel, kind+":"+id); err != nil {
			return wrap(err, "store.notify")
		}
	}
	if s.inTx {
		*s.pending = append(*s.pending, change{kind, id})
		return nil
	}
	s.cache.apply(kind, id)
	return nil
}

type change struct{ kind, id string }

// changeMark is the kind of AwaitChanges' markers: it changes nothing (a
// replica of an older version applies it as an unknown kind, which drops
// nothing).
const changeMark = "mark"

// AwaitChanges returns once every change announced before the call, by
// any replica, has reached this Store's cache. On Postgres it announces a
// marker of its own and waits for its listener to receive it:
// notifications arrive in the order their transactions committed. SQLite
// has one process, whose changes apply at commit: it returns at once. ctx
// bounds the wait; without a running listener it answers Unavailable.
func (s *Store) AwaitChanges(ctx context.Context) error {
	const op = "store.AwaitChanges"
	if s.dialect != Postgres {
		return nil
	}
	c := s.cache
	id := randomMark()
	arrived := make(chan struct{})
	c.mu.Lock()
	ready := c.ready
	c.marks[id] = arrived
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.marks, id)
		c.mu.Unlock()
	}()
	if !ready {
		return apperr.Wrap(errors.New("the change listener is not running"), apperr.Unavailable, op)
	}
	if _, err := s.db.ExecContext(ctx, "SELECT pg_notify(?, ?)", notifyChannel, changeMark+":"+id); err != nil {
		return wrap(err, op)
	}
	select {
	case <-arrived:
		return nil
	case <-ctx.Done():
		return wrap(ctx.Err(), op)
	}
}

// marked tells AwaitChanges that its marker id came back.
func (c *cache) marked(id string) {
	c.mu.Lock()
	if ch, ok := c.marks[id]; ok {
		close(ch)
		delete(c.marks, id)
	}
	c.mu.Unlock()
}

func randomMark() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// apply drops what a change makes stale and tells the hooks.
func (c *cache) apply(kind, id string) {
	c.mu.Lock()
	c.gen++
	switch kind {
	case ChangeApp:
		delete(c.apps, id)
	case ChangeAll:
		clear(c.apps)
	}
	hooks := c.hooks
	c.mu.Unlock()
	for _, fn := range hooks {
		fn(kind, id)
	}
}

// setReady turns reading from the cache on or off (the Postgres listener's
// health); either way what it held is dropped, since changes announced
// meanwhile may be lost. So may AwaitChanges' markers: their waiters are
// let go once the cache is dropped, since from then on a read goes to the
// database (read through, or a cache that starts empty).
func (c *cache) setReady(ready bool) {
	c.mu.Lock()
	c.ready = ready
	c.mu.Unlock()
	c.apply(ChangeAll, "")
	c.mu.Lock()
	for id, ch := range c.marks {
		close(ch)
		delete(c.marks, id)
	}
	c.mu.Unlock()
}
