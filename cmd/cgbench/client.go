package main

import (
	"bufio"
	"context"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// client is one keep-alive HTTP/1.1 connection that posts signed payloads.
// The load generator shares the machine with what it measures, so it
// should take as little of it as it can: net/http's Transport hands every
// request between three goroutines, and that cost about half of cgbench's
// CPU per request. Here the request is written in one call from a reused
// buffer and the answer is read on the caller's goroutine; responses are
// parsed by net/http (http.ReadResponse), so chunked bodies and
// "Connection: close" are still handled.
type client struct {
	addr, host, path string
	timeout          time.Duration

	conn net.Conn
	br   *bufio.Reader
	mac  hash.Hash
	buf  []byte // the request being written
	body []byte // its payload
}

func newClient(rawURL string, s *signer, timeout time.Duration) (*client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://host:port/path (the load generator speaks plain HTTP/1.1)", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &client{
		addr: addr, host: u.Host, path: u.RequestURI(), timeout: timeout,
		mac: s.mac(),
	}, nil
}

// post sends one delivery and returns the status and the time from the
// first byte written to the last byte of the answer read.
func (c *client) post(ctx context.Context, id string, n int64) (int, time.Duration, error) {
	now := time.Now()
	c.body = appendPayload(c.body[:0], id, n, now)
	c.buf = c.appendRequest(c.buf[:0], id, now.Unix())
	if c.conn == nil {
		if err := c.dial(ctx); err != nil {
			return 0, 0, err
		}
	}
	t0 := time.Now()
	status, closeAfter, err := c.roundTrip(t0)
	d := time.Since(t0)
	if err != nil || closeAfter {
		c.close()
	}
	return status, d, err
}

func (c *client) roundTrip(t0 time.Time) (status int, closeAfter bool, err error) {
	if c.timeout > 0 {
		if err := c.conn.SetDeadline(t0.Add(c.timeout)); err != nil {
			return 0, true, err
		}
	}
	if _, err := c.conn.Write(c.buf); err != nil {
		return 0, true, fmt.Errorf("write request: %w", err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, true, fmt.Errorf("read answer: %w", err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, true, fmt.Errorf("read answer body: %w", err)
	}
	return resp.StatusCode, resp.Close, nil
}

func (c *client) dial(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn = conn
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, 4096)
	} else {
		c.br.Reset(conn)
	}
	return nil
}

func (c *client) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}

// appendRequest writes the POST with the Standard Webhooks headers, signed
// over c.body as signer.sign signs.
func (c *client) appendRequest(b []byte, id string, ts int64) []byte {
	b = append(b, "POST "...)
	b = append(b, c.path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.host...)
	b = append(b, "\r\nUser-Agent: cgbench\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(c.body)), 10)
	b = append(b, "\r\n"+hdrID+": "...)
	b = append(b, id...)
	b = append(b, "\r\n"+hdrTimestamp+": "...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, "\r\n"+hdrSignature+": "...)
	b = appendSignature(b, c.mac, id, ts, c.body)
	b = append(b, "\r\n\r\n"...)
	return append(b, c.body...)
}
