package irc

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// MaxLineLength is the longest line read from the server; longer lines are
// discarded (TMI lines with tags stay far below it).
const MaxLineLength = 64 << 10

// conn is one connection to the server: a reader goroutine feeding in, and
// writes made by the manager goroutine alone.
type conn struct {
	nc   net.Conn
	log  zerolog.Logger
	user string

	// in carries the lines the manager acts on, then one inError.
	in      chan inbound
	closing chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	// clock is the manager's; lastRecv is when the last line arrived on it
	// (UnixNano) and recvd how many lines have, for client-side liveness.
	clock    Clock
	lastRecv atomic.Int64
	recvd    atomic.Int64

	writeTimeout time.Duration
	mu           sync.Mutex // guards limit and the write deadline
	limit        time.Time  // if set, no socket deadline goes past it (real clock)
}

// dial connects to o.Address within ctx. ctx's deadline is a socket
// deadline, on the real clock.
func dial(ctx context.Context, o Options, log zerolog.Logger) (*conn, error) {
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	var nc net.Conn
	var err error
	if o.TLS {
		cfg := o.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		td := &tls.Dialer{NetDialer: d, Config: cfg}
		nc, err = td.DialContext(ctx, "tcp", o.Address)
	} else {
		nc, err = d.DialContext(ctx, "tcp", o.Address)
	}
	if err != nil {
		return nil, err
	}
	c := &conn{
		nc:           nc,
		log:          log,
		user:         o.Username,
		clock:        o.Clock,
		in:           make(chan inbound, 64),
		closing:      make(chan struct{}),
		writeTimeout: o.WriteTimeout,
	}
	c.lastRecv.Store(o.Clock.Now().UnixNano())
	c.wg.Add(1)
	go c.readLoop()
	return c, nil
}

// write sends one line (CR LF appended) with a write deadline, on the real
// clock because the kernel enforces it.
func (c *conn) write(line string) error {
	if c.log.GetLevel() <= zerolog.DebugLevel {
		c.log.Debug().Str("line", redact(line)).Msg("send")
	}
	c.mu.Lock()
	dl := time.Now().Add(c.writeTimeout)
	if !c.limit.IsZero() && c.limit.Before(dl) {
		dl = c.limit
	}
	err := c.nc.SetWriteDeadline(dl)
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	if _, err := c.nc.Write([]byte(line + "\r\n")); err != nil {
		return fmt.Errorf("write %s: %w", commandOf(line), err)
	}
	return nil
}

// shorten makes every read and write, pending or future, give up by
// deadline (real clock): on shutdown an unresponsive server must not hold
// Run, and the reader's timeout ends the wait for PART echoes.
func (c *conn) shorten(deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit.IsZero() || deadline.Before(c.limit) {
		c.limit = deadline
		_ = c.nc.SetDeadline(deadline)
	}
}

// lastLine returns when the last line arrived and how many have, on c's
// clock.
func (c *conn) lastLine() (time.Time, int64) {
	return time.Unix(0, c.lastRecv.Load()), c.recvd.Load()
}

// close closes the connection and waits for the reader to stop.
func (c *conn) close() {
	c.once.Do(func() {
		close(c.closing)
		_ = c.nc.Close()
	})
	c.wg.Wait()
}

// readLoop reads lines until the connection fails, discarding lines longer
// than MaxLineLength, and hands the lines farmd acts on to the manager.
func (c *conn) readLoop() {
	defer c.wg.Done()
	r := bufio.NewReaderSize(c.nc, 4096)
	var long []byte // a line longer than the buffer, being assembled
	discarding := false
	for {
		frag, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !discarding {
				if len(long)+len(frag) > MaxLineLength {
					discarding, long = true, nil
					c.log.Warn().Int("max_bytes", MaxLineLength).Msg("discarding over-long line from server")
				} else {
					long = append(long, frag...)
				}
			}
			continue
		}
		if err != nil {
			select {
			case c.in <- inbound{kind: inError, err: fmt.Errorf("read: %w", err)}:
			case <-c.closing:
			}
			return
		}
		if discarding {
			discarding = false
			continue
		}
		line := frag
		if len(long) > 0 {
			line = append(long, frag...)
			long = nil
			if len(line) > MaxLineLength {
				c.log.Warn().Int("max_bytes", MaxLineLength).Msg("discarding over-long line from server")
				continue
			}
		}
		c.lastRecv.Store(c.clock.Now().UnixNano())
		c.recvd.Add(1)
		line = trimCRLF(line)
		msg, ok := parseLine(line, c.user)
		if !ok {
			continue
		}
		select {
		case c.in <- msg:
		case <-c.closing:
			return
		}
	}
}

func trimCRLF(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// redact hides the token of a PASS line.
func redact(line string) string {
	if strings.HasPrefix(strings.ToUpper(line), "PASS") {
		return "PASS oauth:<redacted>"
	}
	return line
}

// commandOf returns the first word of a line, for errors that must not
// carry its arguments (PASS).
func commandOf(line string) string {
	if i := strings.IndexByte(line, ' '); i >= 0 {
		return line[:i]
	}
	return line
}
