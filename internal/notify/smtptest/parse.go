package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
)

var errNoBody = errors.New("no text/plain or text/html part")

// parse reads a raw message into a Received (without the envelope).
func parse(raw []byte) (Received, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, fmt.Errorf("header: %w", err)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Received{}, fmt.Errorf("subject: %w", err)
	}
	r := Received{Raw: raw, Header: msg.Header, Subject: subject}
	if err := r.walk(textproto.MIMEHeader(msg.Header), msg.Body); err != nil {
		return Received{}, err
	}
	if r.Text == "" && r.HTML == "" {
		return Received{}, errNoBody
	}
	return r, nil
}

// walk collects the first text/plain and text/html parts of a body with
// header h, descending into multipart/* bodies.
func (r *Received) walk(h textproto.MIMEHeader, body io.Reader) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii" // RFC 2045 default
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content-type %q: %w", ct, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart leaves the transfer encoding to decode, so all
			// parts go through the same path.
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mediaType, err)
			}
			if err := r.walk(p.Header, p); err != nil {
				return err
			}
		}
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil // attachments and other parts are kept only in Raw
	}
	b, err := io.ReadAll(decode(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return fmt.Errorf("%s body: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mediaType == "text/plain" && r.Text == "":
		r.Text = text
	case mediaType == "text/html" && r.HTML == "":
		r.HTML = text
	}
	return nil
}

func decode(cte string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, body) // skips line breaks
	default: // 7bit, 8bit, binary
		return body
	}
}
