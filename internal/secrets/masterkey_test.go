package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestParseMasterKey(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	b64, raw, hx := base64.StdEncoding.EncodeToString(key), base64.RawStdEncoding.EncodeToString(key), hex.EncodeToString(key)

	tests := []struct {
		name    string
		in      string
		want    []byte // nil: want an error
		wantMsg string // a fragment the error must carry, when set
	}{
		{"base64 padded", b64, key, ""},
		{"base64 unpadded", raw, key, ""},
		{"base64 newline", b64 + "\n", key, ""},
		{"hex lower", hx, key, ""},
		{"hex upper", strings.ToUpper(hx), key, ""},
		{"hex spaces", "  " + hx + "\n", key, ""},
		{"empty", "", nil, "empty"},
		{"blank", " \n", nil, "empty"},
		{"base64 short", base64.StdEncoding.EncodeToString(key[:16]), nil, "16 bytes"},
		{"base64 long", base64.StdEncoding.EncodeToString(append(key, 0)), nil, "33 bytes"},
		{"hex short", hx[:62], nil, "62 hex characters"},
		{"hex odd", hx[:63], nil, "63 hex characters"},
		{"hex long", hx + "00", nil, "66 hex characters"},
		{"64 non-hex", strings.Repeat("g", 64), nil, "48 bytes"},
		{"base64url", strings.NewReplacer("+", "-", "/", "_").Replace(b64), nil, "44 characters"},
		{"garbage", "not a key!", nil, "10 characters"},
		{"bad padding", raw + "==", nil, "45 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMasterKey(tt.in)
			if tt.want != nil {
				if err != nil || !bytes.Equal(got, tt.want) {
					t.Errorf("ParseMasterKey(%q) = %x, %v, want %x, nil", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseMasterKey(%q) = %x, nil, want error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("ParseMasterKey(%q) error = %q, want it to mention %q", tt.in, err, tt.wantMsg)
			}
			if s := strings.TrimSpace(tt.in); len(s) > 4 && strings.Contains(err.Error(), s) {
				t.Errorf("ParseMasterKey(%q) error = %q, want it not to echo the input", tt.in, err)
			}
		})
	}
}

func TestLoadOrCreateMasterKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "fresh", "dir", "master.key")

	key, created, err := LoadOrCreateMasterKey(path)
	if err != nil || !created || len(key) != 32 {
		t.Fatalf("LoadOrCreateMasterKey(%q) = %d bytes, %v, %v, want 32 bytes, true, nil", path, len(key), created, err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("key file mode = %04o, want 0600", got)
		}
		di, err := os.Stat(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if got := di.Mode().Perm(); got&0o077 != 0 {
			t.Errorf("key directory mode = %04o, want no group or other bits", got)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want only the key file", len(entries))
	}

	again, created, err := LoadOrCreateMasterKey(path)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Errorf("LoadOrCreateMasterKey(%q) again = %x, %v, %v, want %x, false, nil", path, again, created, err, key)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fromFile, err := ParseMasterKey(string(b)); err != nil || !bytes.Equal(fromFile, key) {
		t.Errorf("ParseMasterKey(file contents) = %x, %v, want %x, nil", fromFile, err, key)
	}
}

func TestLoadOrCreateMasterKeyRefusesOpenFile(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes do not apply")
	}
	line := base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		path := filepath.Join(t.TempDir(), "master.key")
		if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is subject to umask
			t.Fatal(err)
		}
		key, created, err := LoadOrCreateMasterKey(path)
		if err == nil {
			t.Errorf("LoadOrCreateMasterKey(%q) with mode %04o = %x, %v, nil, want error", path, mode, key, created)
			continue
		}
		if msg, m := err.Error(), fmt.Sprintf("%04o", mode); !strings.Contains(msg, path) || !strings.Contains(msg, m) {
			t.Errorf("LoadOrCreateMasterKey(%q) with mode %04o error = %q, want it to name the path and %s", path, mode, msg, m)
		}
	}
}

func TestLoadOrCreateMasterKeyKeepsBadFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(path, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if key, created, err := LoadOrCreateMasterKey(path); err == nil {
		t.Errorf("LoadOrCreateMasterKey(%q) of a corrupt file = %x, %v, nil, want error", path, key, created)
	}
	if b, _ := os.ReadFile(path); string(b) != "not a key\n" {
		t.Errorf("corrupt key file now holds %q, want it left alone", b)
	}
}

// TestLoadOrCreateMasterKeyRace starts several loaders on a fresh path at
// once: exactly one creates the key and all return it.
func TestLoadOrCreateMasterKeyRace(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys", "master.key")
	const n = 8
	var (
		keys    [n][]byte
		created [n]bool
		start   = make(chan struct{})
		wg      sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			<-start
			var err error
			keys[i], created[i], err = LoadOrCreateMasterKey(path)
			if err != nil {
				t.Errorf("LoadOrCreateMasterKey(%q) in goroutine %d = %v, want nil", path, i, err)
			}
		})
	}
	close(start)
	wg.Wait()

	creators := 0
	for i := range n {
		if created[i] {
			creators++
		}
		if !bytes.Equal(keys[i], keys[0]) || len(keys[i]) != 32 {
			t.Errorf("goroutine %d got key %x, goroutine 0 got %x, want one 32-byte key", i, keys[i], keys[0])
		}
	}
	if creators != 1 {
		t.Errorf("%d loaders report created, want exactly 1", creators)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want only the key file (temporary files removed)", len(entries))
	}
}
