package transport

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// redacted replaces a credential in anything kept of a response.
const redacted = "[REDACTED]"

// minSecret is the shortest string scrubbed: shorter pieces (a numeric
// account id, say) would blank out ordinary words and numbers.
const minSecret = 6

// newScrubber returns a replacer that removes every credential the client
// holds — the authentication header values Authorize set, their token part,
// a Basic value decoded, the pieces of "id:secret" pairs and the configured
// credential — in the forms a provider or proxy may echo them (raw, JSON
// escaped, "\/" escaped, URL-encoded). It returns nil when there is
// nothing to scrub.
func newScrubber(credential string, h http.Header) *strings.Replacer {
	seen := map[string]bool{}
	var secrets []string
	var add func(s string)
	add = func(s string) {
		s = strings.TrimSpace(s)
		if len(s) < minSecret || seen[s] {
			return
		}
		seen[s] = true
		secrets = append(secrets, s)
		if k, v, ok := strings.Cut(s, ":"); ok {
			add(k)
			add(v)
		}
	}
	add(credential)
	for k, vs := range h {
		switch k {
		case "Accept", "User-Agent", "Content-Type":
			continue
		}
		for _, v := range vs {
			add(v)
			if scheme, token, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
				add(token)
				if strings.EqualFold(scheme, "Basic") {
					if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token)); err == nil {
						add(string(dec))
					}
				}
			}
		}
	}
	if len(secrets) == 0 {
		return nil
	}
	// Every form of every secret, longest first so that a whole header
	// value is replaced before the token inside it.
	var forms []string
	have := map[string]bool{}
	for _, s := range secrets {
		variants := []string{s, strings.ReplaceAll(s, "/", `\/`), url.QueryEscape(s), url.PathEscape(s)}
		if j, err := json.Marshal(s); err == nil {
			variants = append(variants, string(j[1:len(j)-1]))
		}
		for _, v := range variants {
			if !have[v] {
				have[v] = true
				forms = append(forms, v)
			}
		}
	}
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, redacted)
	}
	return strings.NewReplacer(pairs...)
}

// scrub removes the client's credentials from s.
func (c *Client) scrub(s string) string {
	if c.scrubber == nil || s == "" {
		return s
	}
	return c.scrubber.Replace(s)
}

// scrubBytes removes the client's credentials from b, returning b itself
// when there are none in it.
func (c *Client) scrubBytes(b []byte) []byte {
	if c.scrubber == nil || len(b) == 0 {
		return b
	}
	s := string(b)
	if r := c.scrubber.Replace(s); r != s {
		return []byte(r)
	}
	return b
}
