// Command template-conformance evaluates Vault username templates with the
// real github.com/hashicorp/vault/sdk/helper/template package so the
// TypeScript port can be compared against it.
//
// Input (stdin): a JSON array of cases
//
//	[{"template": "...", "data": {"RoleName": "x"}, "now_unix": 1700000000, "now_nanos": 0}]
//
// Output (stdout): a JSON array with one result per case, in order:
//
//	{"ok": true, "output": "...", "output_bytes": 3}
//	{"ok": false, "stage": "parse"|"exec", "error": "..."}
//
// ("output" is left out when it is over 64 KiB; "output_bytes" says how long it was.)
//
// The clock-reading functions (timestamp, unix_time, unix_time_millis) are
// replaced, through the package's own template.Function option, by versions
// that read a fixed instant in UTC instead of time.Now() in the local zone;
// their formatting code paths (time.Time.Format, Unix, UnixNano) are the same
// ones Vault's functions call. Every other function is Vault's own.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/vault/sdk/helper/template"
)

type testCase struct {
	Template string            `json:"template"`
	Data     map[string]string `json:"data"`
	NowUnix  int64             `json:"now_unix"`
	NowNanos int64             `json:"now_nanos"`
}

type result struct {
	OK bool `json:"ok"`
	// Output is omitted when it is longer than maxReported bytes;
	// OutputBytes always carries its length.
	Output      *string `json:"output,omitempty"`
	OutputBytes int     `json:"output_bytes"`
	Stage       string  `json:"stage,omitempty"`
	Error       string  `json:"error,omitempty"`
}

// maxReported bounds the outputs echoed back (a template such as
// {{printf "%10000000d" 1}} renders megabytes).
const maxReported = 65536

func run(c testCase) result {
	now := time.Unix(c.NowUnix, c.NowNanos).UTC()
	tmpl, err := template.NewTemplate(
		template.Template(c.Template),
		template.Function("timestamp", func(layout string) string { return now.Format(layout) }),
		template.Function("unix_time", func() string { return strconv.FormatInt(now.Unix(), 10) }),
		template.Function("unix_time_millis", func() string {
			return strconv.FormatInt(now.UnixNano()/int64(time.Millisecond), 10)
		}),
	)
	if err != nil {
		return result{OK: false, Stage: "parse", Error: err.Error()}
	}
	// The seed plugin passes a map[string]interface{} of strings.
	data := make(map[string]interface{}, len(c.Data))
	for k, v := range c.Data {
		data[k] = v
	}
	out, err := tmpl.Generate(data)
	if err != nil {
		return result{OK: false, Stage: "exec", Error: err.Error()}
	}
	if len(out) > maxReported {
		return result{OK: true, OutputBytes: len(out)}
	}
	return result{OK: true, Output: &out, OutputBytes: len(out)}
}

func main() {
	var cases []testCase
	dec := json.NewDecoder(os.Stdin)
	if err := dec.Decode(&cases); err != nil {
		fmt.Fprintf(os.Stderr, "template-conformance: bad input: %v\n", err)
		os.Exit(2)
	}
	results := make([]result, len(cases))
	for i, c := range cases {
		results[i] = run(c)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(results); err != nil {
		fmt.Fprintf(os.Stderr, "template-conformance: %v\n", err)
		os.Exit(2)
	}
}
