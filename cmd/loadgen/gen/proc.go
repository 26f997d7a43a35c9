package gen

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux this runs on (sysconf(_SC_CLK_TCK) without cgo).
const clockTick = 10 * time.Millisecond

// readCPU returns the user+system CPU pid has used so far.
func readCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	// After ')' come state (3) … utime (14), stime (15): indexes 11, 12.
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed stat times")
	}
	return time.Duration(ut+st) * clockTick, nil
}

// PostgresCPU returns the user+system CPU that every process named
// postgres on this machine has used so far: the database's share of a
// scenario when the server's Postgres is local (make bench).
func PostgresCPU() (time.Duration, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	found := false
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		if d, err := readCPU(pid); err == nil { // a backend may exit meanwhile
			sum += d
			found = true
		}
	}
	if !found {
		return 0, errors.New("no postgres process on this machine")
	}
	return sum, nil
}

// readPeakRSS returns pid's peak resident set (VmHWM) in bytes.
func readPeakRSS(pid int) (int64, error) {
	return readStatusKB(pid, "VmHWM:")
}

// ReadRSS returns pid's resident set now (VmRSS) in bytes.
func ReadRSS(pid int) (int64, error) {
	return readStatusKB(pid, "VmRSS:")
}

func readStatusKB(pid int, key string) (int64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", key, pid)
}
