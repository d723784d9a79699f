package postgres

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadURL is returned by Open for a postgres:// URL that net/url cannot
// parse, or that it would parse differently from what was meant. The
// parser's own text is never shown: it quotes pieces of the URL, and when
// the password holds an unencoded '/', '?' or '#' those pieces are parts of
// the password that no redaction can find.
var ErrBadURL = errors.New("database URL could not be parsed: percent-encode special characters in the user name and password " +
	"(/ ? # @ : % as %2F %3F %23 %40 %3A %25)")

// ErrBadDSN is ErrBadURL for a key=value connection string; lib/pq's
// message would quote the word after a password that holds a space.
var ErrBadDSN = errors.New("database connection string could not be parsed: write key=value pairs separated by spaces " +
	`and quote a value that holds spaces, as password='my secret' (inside quotes write ' as \' and \ as \\)`)

// checkDSN refuses what lib/pq would either fail to parse with a message
// that may quote a password, or parse into something other than what was
// written: an '@' after the URL's host part means the user info ended
// early, at an unencoded '/', '?' or '#' in the password, and the rest of
// the password would become host, port or database name and be printed in
// connection errors. An '@' meant in a path or query is written %40.
func checkDSN(dsn string) error {
	if rest, ok := urlRest(dsn); ok {
		if cut := strings.IndexAny(rest, "/?#"); cut >= 0 && strings.Contains(rest[cut:], "@") {
			return ErrBadURL
		}
		if _, err := url.Parse(dsn); err != nil {
			return ErrBadURL
		}
		return nil
	}
	if _, ok := scanDSN(dsn); !ok {
		return ErrBadDSN
	}
	return nil
}

// urlRest returns what follows postgres:// or postgresql://, the forms
// lib/pq reads as URLs.
func urlRest(dsn string) (string, bool) {
	for _, p := range []string{"postgres://", "postgresql://"} {
		if strings.HasPrefix(dsn, p) {
			return dsn[len(p):], true
		}
	}
	return "", false
}

// Redact hides the password of a database URL (or key=value DSN) for
// messages and logs. Where the string is ambiguous it hides too much,
// never too little.
func Redact(dsn string) string {
	for _, sec := range secrets(dsn) {
		dsn = dsn[:sec.start] + "xxxxx" + dsn[sec.end:]
	}
	return dsn
}

// RedactError returns err with every password of dsn hidden from its text;
// errors.Is and errors.As still see the original. It only finds passwords
// quoted whole, so Open never lets a parser's message reach it (see
// checkDSN).
func RedactError(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, sec := range secrets(dsn) {
		if p := dsn[sec.start:sec.end]; p != "" {
			clean = strings.ReplaceAll(clean, p, "xxxxx")
		}
	}
	if clean == msg {
		return err
	}
	return redactedError{msg: clean, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

type span struct{ start, end int }

// secrets locates passwords in dsn, last first and never overlapping, so
// replacing one keeps the offsets of the others valid.
//
//   - scheme://user:PASS@host: from the first ':' of the user info to the
//     last '@' (an unescaped '@', '/', '?' or '#' in the password makes the
//     URL ambiguous; the last '@' is the safe guess), and the value of every
//     ...password= query parameter up to the next '&';
//   - scheme:user:PASS@host (no "//"): everything between the scheme's ':'
//     and the last '@';
//   - key=value: the value of every key ending in "password", quoted or
//     not; from the first such value to the end when the string does not
//     scan, since then no one knows where the value ends.
func secrets(dsn string) []span {
	var out []span
	if i := strings.Index(dsn, "://"); i >= 0 && isScheme(dsn[:i]) {
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				out = append(out, span{i + 3 + c + 1, i + 3 + at})
			}
		}
		out = append(out, queryPasswords(dsn)...)
	} else if c := strings.Index(dsn, ":"); c >= 0 && isScheme(dsn[:c]) {
		if at := strings.LastIndex(dsn, "@"); at > c {
			out = append(out, span{c + 1, at})
		}
		out = append(out, queryPasswords(dsn)...)
	} else {
		out = kvPasswords(dsn)
	}
	return merge(out)
}

// queryPasswords finds ...password=VALUE up to the next '&' anywhere in
// s: a '#' or a space does not end it, in case it is part of the value.
func queryPasswords(s string) []span {
	var out []span
	lower := strings.ToLower(s)
	for from := 0; ; {
		k := strings.Index(lower[from:], "password=")
		if k < 0 {
			return out
		}
		start := from + k + len("password=")
		end := start
		for end < len(s) && s[end] != '&' {
			end++
		}
		out = append(out, span{start, end})
		from = end
	}
}

// kvPasswords finds the values of password keys in a key=value string.
func kvPasswords(s string) []span {
	pairs, ok := scanDSN(s)
	var out []span
	for _, p := range pairs {
		if strings.HasSuffix(strings.ToLower(p.key), "password") {
			out = append(out, p.val)
		}
	}
	if !ok {
		// Hide from the first password to the end; if the scan stopped
		// before any password key, from where a password is named.
		start := len(s)
		if len(out) > 0 {
			start = out[0].start
		} else if k := strings.Index(strings.ToLower(s), "password"); k >= 0 {
			start = k + len("password")
		}
		if start < len(s) {
			out = append(out, span{start, len(s)})
		}
	}
	return out
}

type pair struct {
	key string
	val span // the value as written, quotes included
}

// scanDSN splits a key=value connection string the way lib/pq (and libpq)
// do: keys and '=' may be surrounded by spaces, a value is either quoted
// with ' (\ escapes) or runs to the next space (\ escapes). ok is false
// where lib/pq would refuse the string.
func scanDSN(s string) (pairs []pair, ok bool) {
	i := 0
	skip := func() {
		for n := spaceAt(s, i); n > 0; n = spaceAt(s, i) {
			i += n
		}
	}
	for {
		skip()
		if i >= len(s) {
			return pairs, true
		}
		k := i
		for i < len(s) && spaceAt(s, i) == 0 && s[i] != '=' {
			i++
		}
		key := s[k:i]
		skip()
		if i >= len(s) || s[i] != '=' {
			return pairs, false
		}
		i++
		skip()
		v := i
		if i < len(s) && s[i] == '\'' {
			for i++; ; i++ {
				if i >= len(s) {
					return append(pairs, pair{key, span{v, len(s)}}), false
				}
				if s[i] == '\\' {
					i++
					continue
				}
				if s[i] == '\'' {
					i++
					break
				}
			}
		} else {
			for i < len(s) && spaceAt(s, i) == 0 {
				if s[i] == '\\' {
					if i++; i >= len(s) {
						return append(pairs, pair{key, span{v, i}}), false
					}
				}
				i++
			}
		}
		pairs = append(pairs, pair{key, span{v, i}})
	}
}

// spaceAt is the byte length of the white space (as unicode.IsSpace, the
// test lib/pq uses) starting at s[i], or 0.
func spaceAt(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	if r, n := utf8.DecodeRuneInString(s[i:]); unicode.IsSpace(r) {
		return n
	}
	return 0
}

// isScheme reports an RFC 3986 scheme: a letter, then letters, digits,
// '+', '-' or '.'. It tells "postgres:..." from "host=db:5432 ...".
func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// merge sorts spans last first and joins overlapping ones.
func merge(in []span) []span {
	slices.SortFunc(in, func(a, b span) int { return a.start - b.start })
	var out []span
	for _, sp := range in {
		if n := len(out); n > 0 && sp.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, sp.end)
			continue
		}
		out = append(out, sp)
	}
	slices.Reverse(out)
	return out
}
