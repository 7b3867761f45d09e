// Package access checks the access-control examples in examples/access
// without a Terraform binary or a server: every .tf and .hcl file parses with
// HashiCorp's HCL v2 parser, the Terraform uses only resources and arguments
// the vault provider has, and the policies name only paths the engine serves,
// with the capabilities those paths answer and sudo exactly where the engine
// marks a path root-protected.
package access

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// enginePath is one path of the engine as its TypeScript source declares it.
type enginePath struct {
	pattern    string          // as written in the source, e.g. "creds/<name>"
	regex      *regexp.Regexp  // what the SDK's compilePattern makes of it
	samples    []string        // concrete paths it serves
	operations map[string]bool // read, create, update, delete, list, patch
	root       bool            // in specialPaths.root: needs sudo
}

// nameSegment is the SDK's "<name>" (Go's GenericNameRegex).
const nameSegment = `\w(?:(?:[\w.-]+)?\w)?`

var (
	patternRe   = regexp.MustCompile(`pattern:\s*"([^"]+)"`)
	operationRe = regexp.MustCompile(`operations:\s*\{`)
	segmentRe   = regexp.MustCompile(`<(\w+)(\*?)>`)
	rootRe      = regexp.MustCompile(`root:\s*\[([^\]]*)\]`)
	quotedRe    = regexp.MustCompile(`"([^"]*)"`)
	keyRe       = regexp.MustCompile(`(?:^|[,{\s])(\w+)\s*:`)
)

// loadEnginePaths reads the path definitions from packages/engine/src.
func loadEnginePaths(srcDir string) ([]enginePath, error) {
	backend, err := os.ReadFile(filepath.Join(srcDir, "backend.ts"))
	if err != nil {
		return nil, err
	}
	m := rootRe.FindSubmatch(backend)
	if m == nil {
		return nil, fmt.Errorf("no specialPaths root list in backend.ts")
	}
	root := map[string]bool{}
	for _, q := range quotedRe.FindAllSubmatch(m[1], -1) {
		root[string(q[1])] = true
	}

	files, err := filepath.Glob(filepath.Join(srcDir, "path-*.ts"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var paths []enginePath
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		text := string(src)
		locs := patternRe.FindAllStringSubmatchIndex(text, -1)
		for i, loc := range locs {
			pattern := text[loc[2]:loc[3]]
			end := len(text)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			ops, err := operationsOf(text[loc[1]:end])
			if err != nil {
				return nil, fmt.Errorf("%s, pattern %q: %w", filepath.Base(f), pattern, err)
			}
			re, samples := compilePattern(pattern)
			paths = append(paths, enginePath{pattern: pattern, regex: re, samples: samples, operations: ops, root: root[pattern]})
		}
	}
	for r := range root {
		found := false
		for _, p := range paths {
			found = found || p.pattern == r
		}
		if !found {
			return nil, fmt.Errorf("root-protected path %q has no path definition", r)
		}
	}
	return paths, nil
}

// operationsOf returns the keys of the first `operations: { ... }` object in
// text: the identifiers followed by ":" at that object's top level.
func operationsOf(text string) (map[string]bool, error) {
	loc := operationRe.FindStringIndex(text)
	if loc == nil {
		return nil, fmt.Errorf("no operations object")
	}
	depth := 1
	var top strings.Builder
	top.WriteByte('{')
	var quote byte
	for i := loc[1]; i < len(text) && depth > 0; i++ {
		c := text[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		case c == '/' && i+1 < len(text) && text[i+1] == '/':
			// A comment may hold an apostrophe that is no quote.
			for i < len(text) && text[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				i = len(text)
			} else {
				i += end + 3
			}
			continue
		case c == '"' || c == '\'' || c == '`':
			quote = c
			continue
		case c == '{':
			depth++
			continue
		case c == '}':
			depth--
			continue
		}
		if depth == 1 {
			top.WriteByte(c)
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced operations object")
	}
	ops := map[string]bool{}
	for _, k := range keyRe.FindAllStringSubmatch(top.String(), -1) {
		switch k[1] {
		case "read", "create", "update", "delete", "list", "patch":
			ops[k[1]] = true
		default:
			return nil, fmt.Errorf("unknown operation %q", k[1])
		}
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("no operations")
	}
	return ops, nil
}

// compilePattern mirrors packages/sdk/src/framework/path.ts: "<name>" is one
// name segment, "<name*>" the rest of the path, a trailing "/?" an optional
// slash. It also returns concrete paths the pattern serves.
func compilePattern(pattern string) (*regexp.Regexp, []string) {
	body, optionalSlash := strings.CutSuffix(pattern, "/?")
	var re strings.Builder
	last := 0
	for _, m := range segmentRe.FindAllStringSubmatchIndex(body, -1) {
		re.WriteString(regexp.QuoteMeta(body[last:m[0]]))
		if m[5] > m[4] {
			re.WriteString(".+")
		} else {
			re.WriteString(nameSegment)
		}
		last = m[1]
	}
	re.WriteString(regexp.QuoteMeta(body[last:]))
	sample := segmentRe.ReplaceAllStringFunc(body, func(s string) string {
		if strings.HasSuffix(s, "*>") {
			return "sample/rest"
		}
		return "sample"
	})
	samples := []string{sample}
	if optionalSlash {
		re.WriteString("/?")
		samples = append(samples, sample+"/")
	}
	return regexp.MustCompile("^" + re.String() + "$"), samples
}

// covered returns the engine paths a policy path (below the mount, with
// Vault's "+" segment and trailing "*" glob) applies to.
func covered(paths []enginePath, policyPath string) []enginePath {
	prefix, glob := strings.CutSuffix(policyPath, "*")
	concrete := strings.ReplaceAll(prefix, "+", "sample")
	segment := regexp.MustCompile(`\\\+`)
	var policyRe *regexp.Regexp
	if glob {
		policyRe = regexp.MustCompile("^" + segment.ReplaceAllString(regexp.QuoteMeta(prefix), `[^/]+`) + ".*$")
	}
	var out []enginePath
	for _, p := range paths {
		hit := false
		if !glob {
			hit = p.regex.MatchString(concrete)
		} else {
			hit = p.regex.MatchString(concrete+"sample") || p.regex.MatchString(concrete)
			for _, s := range p.samples {
				hit = hit || policyRe.MatchString(s)
			}
		}
		if hit {
			out = append(out, p)
		}
	}
	return out
}
