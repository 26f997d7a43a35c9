package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// masterKeyLen is the size of a master key: an AES-256 key's worth.
const masterKeyLen = 32

// ParseMasterKey decodes a 32-byte key given as standard base64 (with or
// without padding) or as 64 hex characters, as in COSYNC_MASTER_KEY.
// Surrounding whitespace is ignored. The error says which length it saw,
// never the key.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("secrets: master key is empty")
	}
	// Base64 of 32 bytes is 43 or 44 characters; other all-hex input is
	// meant as hex, and a length error should say so.
	if isHex(s) && len(s) != 43 && len(s) != 44 {
		if len(s) != 2*masterKeyLen {
			return nil, fmt.Errorf("secrets: master key is %d hex characters, want %d", len(s), 2*masterKeyLen)
		}
		return hex.DecodeString(s)
	}
	enc := base64.RawStdEncoding
	if strings.HasSuffix(s, "=") {
		enc = base64.StdEncoding
	}
	key, err := enc.Strict().DecodeString(s)
	if err != nil {
		// The decoder's error names an offset into the key; leave it out.
		return nil, fmt.Errorf("secrets: master key of %d characters is neither 64 hex characters nor standard base64", len(s))
	}
	if len(key) != masterKeyLen {
		return nil, fmt.Errorf("secrets: master key decodes to %d bytes, want %d (44 base64 or 64 hex characters)", len(key), masterKeyLen)
	}
	return key, nil
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// LoadOrCreateMasterKey reads the key file at path: one line of standard
// base64, as ParseMasterKey accepts. If the file does not exist it creates
// the directory (0700) and the file with a new random key, mode 0600, written
// atomically: the key goes to a temporary file that is then hard-linked into
// place, which fails rather than replaces if path has appeared meanwhile, so
// two processes starting at once end with one key and both return it.
// created reports whether this call made the key.
//
// A file that group or others can read or write is refused with an error
// naming the path and the mode (the check is skipped on Windows, whose
// permissions do not map to Unix modes). An existing file that does not hold
// a valid key is an error; it is never overwritten.
func LoadOrCreateMasterKey(path string) (key []byte, created bool, err error) {
	key, err = readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	key, err = createKeyFile(path)
	if !errors.Is(err, fs.ErrExist) {
		return key, err == nil, err
	}
	// Another process created the file first; its key is the key.
	key, err = readKeyFile(path)
	return key, false, err
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err) // keeps fs.ErrNotExist visible
	}
	defer f.Close()
	// Stat the open file, not the path, so the mode checked is the mode of
	// the file read.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secrets: master key file %s is not a regular file (mode %v)", path, fi.Mode())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("secrets: master key file %s has mode %04o, open to group or others; want 0600 (chmod 600 %s)", path, perm, path)
	}
	// A key line is 45 bytes; anything much longer is not a key file.
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("secrets: reading master key file: %w", err)
	}
	key, err := ParseMasterKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return key, nil
}

// createKeyFile writes a new key to path. If path already exists it returns
// an error wrapping fs.ErrExist and leaves the file alone.
func createKeyFile(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secrets: creating master key directory: %w", err)
	}
	key := make([]byte, masterKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secrets: reading random: %w", err)
	}

	// CreateTemp opens with O_EXCL and mode 0600.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("secrets: creating master key file: %w", err)
	}
	// After the link below, path names the file, so removing the temporary
	// name is right on every path.
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync() // the key must be on disk before anyone can read it
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: writing master key file: %w", err)
	}

	// Unlike rename, link never replaces an existing path: it is the
	// O_EXCL of atomic file creation.
	if err := os.Link(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("secrets: installing master key file: %w", err)
	}
	syncDir(dir)
	return key, nil
}

// syncDir makes a new directory entry durable. Failure is not reported: the
// file is complete either way, and some platforms cannot sync directories.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort, as said above
		_ = d.Close()
	}
}
