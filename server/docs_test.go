package main

import (
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestDocsLinks checks that every relative link in README.md and docs/*.md
// points at a file of the repository, and that a #fragment names a heading
// of the Markdown file it points into, so moving a guide cannot leave a
// reader at a dead end.
func TestDocsLinks(t *testing.T) {
	t.Parallel()
	files := docFiles(t)
	headings := map[string]map[string]bool{}
	anchorsOf := func(file string) map[string]bool {
		if a, ok := headings[file]; ok {
			return a
		}
		b, err := os.ReadFile("../" + file)
		if err != nil {
			t.Fatal(err)
		}
		headings[file] = anchors(string(b))
		return headings[file]
	}
	links := 0
	for _, file := range files {
		b, err := os.ReadFile("../" + file)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range markdownLinks(string(b)) {
			if regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`).MatchString(target) {
				continue // https:, mailto: and the like leave the repository
			}
			links++
			ref, frag, _ := strings.Cut(target, "#")
			to := file
			if ref != "" {
				to = path.Clean(path.Join(path.Dir(file), ref))
			}
			if strings.HasPrefix(to, "../") || path.IsAbs(to) {
				t.Errorf("%s: link %q leaves the repository", file, target)
				continue
			}
			if _, err := os.Stat("../" + to); err != nil {
				t.Errorf("%s: link %q points at %s, which does not exist", file, target, to)
				continue
			}
			if frag != "" && strings.HasSuffix(to, ".md") && !anchorsOf(to)[frag] {
				t.Errorf("%s: link %q: %s has no heading with anchor #%s", file, target, to, frag)
			}
		}
	}
	if links < 10 {
		t.Errorf("found only %d relative links in %v; is the link pattern broken?", links, files)
	}
}

// markdownLinks returns the targets of the inline links and images in doc,
// outside fenced code blocks and code spans (where [x](y) is code, not a link).
func markdownLinks(doc string) []string {
	doc = regexp.MustCompile("(?ms)^```.*?^```").ReplaceAllString(doc, "")
	doc = regexp.MustCompile("`[^`\n]*`").ReplaceAllString(doc, "``")
	var out []string
	for _, m := range regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`).FindAllStringSubmatch(doc, -1) {
		out = append(out, m[1])
	}
	return out
}

// anchors returns the anchors GitHub gives the headings of doc: lower case,
// punctuation dropped, spaces turned into hyphens, repeats numbered -1, -2 ….
func anchors(doc string) map[string]bool {
	doc = regexp.MustCompile("(?ms)^```.*?^```").ReplaceAllString(doc, "")
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`).FindAllStringSubmatch(doc, -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// TestDocsAnchors keeps anchors' slugging honest on headings the guides use.
func TestDocsAnchors(t *testing.T) {
	t.Parallel()
	got := anchors("# Production keys with Vault\n## Rotation (both signers)\n## In production\n## In production\n```sh\n# a comment\n```\n")
	for _, want := range []string{"production-keys-with-vault", "rotation-both-signers", "in-production", "in-production-1"} {
		if !got[want] {
			t.Errorf("anchors() = %v, want %q among them", got, want)
		}
	}
	if got["a-comment"] {
		t.Errorf("anchors() = %v, took a shell comment in a code block for a heading", got)
	}
}

// TestDocsSections checks the markers the tests read sections by: each
// <!-- name:start --> has its end after it, and no name is used twice among
// README.md and docs/*.md (readmeSection finds a section by name alone).
func TestDocsSections(t *testing.T) {
	t.Parallel()
	where := map[string]string{}
	for _, file := range docFiles(t) {
		b, err := os.ReadFile("../" + file)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		for _, m := range regexp.MustCompile(`<!-- ([a-z0-9-]+):start -->`).FindAllStringSubmatch(doc, -1) {
			name := m[1]
			if prev, ok := where[name]; ok {
				t.Errorf("section %s is in both %s and %s", name, prev, file)
			}
			where[name] = file
			if _, ok := section(doc, name); !ok {
				t.Errorf("%s: section %s has no <!-- %s:end --> after its start", file, name, name)
			}
		}
	}
	for _, name := range []string{"walkthrough", "lifecycle", "social", "config", "api", "vault-start", "vault-serve", "vault-walkthrough"} {
		if where[name] == "" {
			t.Errorf("no file has the section %s that the tests run or check", name)
		}
	}
}
