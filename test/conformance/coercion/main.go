// Command coercion reports how the Go SDK's framework.FieldData converts
// request values, so the TypeScript SDK's coercion can be checked against Go
// itself rather than against a reading of Go's source.
//
// It reads a JSON array of cases, {"type": "<TypeScript field type>", "raw":
// <any JSON value>}, on stdin and writes one result per case on stdout:
// {"ok": true, "value": ...} or {"ok": false, "error": "..."}.
//
// Each raw value reaches FieldData by the path an external plugin's request
// data takes: Vault core marshals logical.Request.Data to JSON for gRPC, and
// the plugin side rebuilds it with pb.ProtoRequestToLogicalRequest, which uses
// plain json.Unmarshal. Numbers therefore arrive as float64, not json.Number.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/plugin/pb"
)

type testCase struct {
	Type string          `json:"type"`
	Raw  json.RawMessage `json:"raw"`
}

type result struct {
	OK    bool   `json:"ok"`
	Value any    `json:"value,omitempty"`
	Unix  *int64 `json:"unix,omitempty"`
	Error string `json:"error,omitempty"`
	Panic bool   `json:"panic,omitempty"`
}

var fieldTypes = map[string]framework.FieldType{
	"string":             framework.TypeString,
	"int":                framework.TypeInt,
	"int64":              framework.TypeInt64,
	"bool":               framework.TypeBool,
	"float":              framework.TypeFloat,
	"duration":           framework.TypeDurationSecond,
	"comma-string-slice": framework.TypeCommaStringSlice,
	"string-slice":       framework.TypeStringSlice,
	"kv-pairs":           framework.TypeKVPairs,
	"map":                framework.TypeMap,
	"lowercase-string":   framework.TypeLowerCaseString,
	"name-string":        framework.TypeNameString,
	"time":               framework.TypeTime,
	"header":             framework.TypeHeader,
}

const field = "f"

func main() {
	var cases []testCase
	dec := json.NewDecoder(os.Stdin)
	if err := dec.Decode(&cases); err != nil {
		fmt.Fprintf(os.Stderr, "reading cases: %v\n", err)
		os.Exit(2)
	}
	out := make([]result, len(cases))
	for i, c := range cases {
		out[i] = run(c)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "writing results: %v\n", err)
		os.Exit(2)
	}
}

func run(c testCase) (res result) {
	defer func() {
		if p := recover(); p != nil {
			res = result{Error: fmt.Sprint("panic: ", p), Panic: true}
		}
	}()
	t, ok := fieldTypes[c.Type]
	if !ok {
		return result{Error: fmt.Sprintf("unknown type %q", c.Type)}
	}
	// The request body exactly as it crosses the gRPC boundary.
	data := `{"` + field + `":` + string(c.Raw) + `}`
	req, err := pb.ProtoRequestToLogicalRequest(&pb.Request{Data: data})
	if err != nil {
		return result{Error: "request data: " + err.Error()}
	}
	d := &framework.FieldData{
		Raw:    req.Data,
		Schema: map[string]*framework.FieldSchema{field: {Type: t}},
	}
	if err := d.Validate(); err != nil {
		return result{Error: err.Error()}
	}
	v, ok, err := d.GetOkErr(field)
	if err != nil {
		return result{Error: err.Error()}
	}
	if !ok {
		return result{Error: "value not set"}
	}
	return encode(v)
}

// encode puts the value in a form JSON can carry without loss: durations are
// already whole seconds, times become RFC 3339 in UTC plus epoch seconds (the
// epoch seconds survive years JavaScript's Date cannot show), and non-finite
// floats become strings.
func encode(v any) result {
	switch x := v.(type) {
	case time.Time:
		u := x.Unix()
		return result{OK: true, Value: x.UTC().Format(time.RFC3339), Unix: &u}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return result{OK: true, Value: strconv.FormatFloat(x, 'g', -1, 64)}
		}
		return result{OK: true, Value: x}
	case http.Header:
		return result{OK: true, Value: map[string][]string(x)}
	default:
		if _, err := json.Marshal(v); err != nil {
			return result{Error: "cannot encode value: " + err.Error()}
		}
		return result{OK: true, Value: v}
	}
}
