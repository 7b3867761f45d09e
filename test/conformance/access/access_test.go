package access

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

const (
	exampleDir   = "../../../examples/access"
	engineSrcDir = "../../../packages/engine/src"
)

// providerSchema lists, per resource type of the hashicorp/vault provider
// (v5), the arguments it takes and the attributes it exports besides them.
// Taken from the provider's resource documentation (website/docs/r/*.md) and
// the same schema as bridged into @pulumi/vault 7.8.0; extend it only from
// those sources.
var providerSchema = map[string]struct {
	args, blocks, exported []string
}{
	"vault_plugin": {args: []string{"type", "name", "command", "version", "sha256", "args", "env", "oci_image", "runtime"}},
	"vault_mount": {args: []string{
		"path", "type", "description", "default_lease_ttl_seconds", "max_lease_ttl_seconds", "audit_non_hmac_request_keys",
		"audit_non_hmac_response_keys", "local", "options", "seal_wrap", "external_entropy_access", "allowed_managed_keys",
		"plugin_version", "listing_visibility", "passthrough_request_headers", "allowed_response_headers",
		"delegated_auth_accessors", "identity_token_key", "namespace", "force_no_cache",
	}, exported: []string{"accessor"}},
	"vault_generic_endpoint": {
		args:     []string{"path", "data_json", "disable_read", "disable_delete", "ignore_absent_fields", "write_fields", "namespace"},
		exported: []string{"write_data_json", "write_data"},
	},
	"vault_policy": {args: []string{"name", "policy", "namespace"}},
	"vault_jwt_auth_backend": {args: []string{
		"path", "type", "description", "oidc_discovery_url", "oidc_discovery_ca_pem", "oidc_client_id", "oidc_client_secret",
		"oidc_response_mode", "oidc_response_types", "jwks_url", "jwks_ca_pem", "jwks_pairs", "jwt_validation_pubkeys",
		"bound_issuer", "jwt_supported_algs", "default_role", "provider_config", "local", "namespace", "namespace_in_state",
		"disable_remount",
	}, blocks: []string{"tune"}, exported: []string{"accessor"}},
	"vault_jwt_auth_backend_role": {args: []string{
		"role_name", "role_type", "backend", "bound_audiences", "user_claim", "user_claim_json_pointer", "bound_subject",
		"bound_claims", "bound_claims_type", "claim_mappings", "groups_claim", "oidc_scopes", "allowed_redirect_uris",
		"clock_skew_leeway", "expiration_leeway", "not_before_leeway", "verbose_oidc_logging", "max_age",
		"disable_bound_claims_parsing", "alias_metadata", "namespace", "token_ttl", "token_max_ttl", "token_policies",
		"token_bound_cidrs", "token_explicit_max_ttl", "token_no_default_policy", "token_num_uses", "token_period", "token_type",
	}},
	"vault_identity_group": {args: []string{
		"name", "type", "policies", "metadata", "member_group_ids", "member_entity_ids", "external_policies",
		"external_member_entity_ids", "external_member_group_ids", "namespace",
	}},
	"vault_identity_group_alias": {args: []string{"name", "mount_accessor", "canonical_id", "namespace"}},
}

// Terraform's own arguments, valid on every resource.
var metaArguments = []string{"count", "for_each", "depends_on", "provider"}

// sysLeasePaths are the sys paths a policy here may name, below which comes
// a lease id prefix of the engine; sudo is what the server requires there
// (measured on OpenBao 2.7.2 and Vault 1.21.1 by test/e2e/access-*.test.ts).
var sysLeasePaths = map[string]struct {
	capabilities []string
	sudo         bool
}{
	"sys/leases/revoke/":        {capabilities: []string{"update"}},
	"sys/leases/revoke-prefix/": {capabilities: []string{"update"}, sudo: true},
	"sys/leases/lookup/":        {capabilities: []string{"list"}, sudo: true},
	"sys/leases/renew/":         {capabilities: []string{"update"}},
}

// sysPaths are the other sys paths a policy here may name, below which comes
// an audit device's path.
var sysPaths = map[string]struct {
	capabilities []string
	sudo         bool
}{
	"sys/audit-hash/": {capabilities: []string{"update"}},
}

// The engine's path that issues leases: lease ids start with <mount>/creds/<role>/.
const leasePattern = "creds/<name>"

type terraform struct {
	files     map[string]*hclsyntax.Body
	resources map[string]*hclsyntax.Block // "type.name"
	variables map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
}

func parseTerraform(t *testing.T) *terraform {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(exampleDir, "terraform", "*.tf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .tf files under %s/terraform (%v)", exampleDir, err)
	}
	parser := hclparse.NewParser()
	tf := &terraform{files: map[string]*hclsyntax.Body{}, resources: map[string]*hclsyntax.Block{}, variables: map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{}}
	for _, p := range paths {
		f, diags := parser.ParseHCLFile(p)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", p, diags.Error())
		}
		body := f.Body.(*hclsyntax.Body)
		tf.files[filepath.Base(p)] = body
		for _, b := range body.Blocks {
			switch b.Type {
			case "resource":
				tf.resources[b.Labels[0]+"."+b.Labels[1]] = b
			case "variable":
				tf.variables[b.Labels[0]] = b
			case "locals":
				for name, a := range b.Body.Attributes {
					tf.locals[name] = a
				}
			}
		}
	}
	return tf
}

type policyRule struct {
	path         string
	capabilities []string
}

func parsePolicies(t *testing.T) map[string][]policyRule {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(exampleDir, "policies", "*.hcl"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .hcl files under %s/policies (%v)", exampleDir, err)
	}
	parser := hclparse.NewParser()
	out := map[string][]policyRule{}
	for _, p := range paths {
		f, diags := parser.ParseHCLFile(p)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", p, diags.Error())
		}
		body := f.Body.(*hclsyntax.Body)
		name := strings.TrimSuffix(filepath.Base(p), ".hcl")
		if len(body.Attributes) > 0 {
			t.Errorf("%s: a policy holds only path blocks", name)
		}
		for _, b := range body.Blocks {
			if b.Type != "path" || len(b.Labels) != 1 {
				t.Errorf("%s: unexpected block %s %v", name, b.Type, b.Labels)
				continue
			}
			capsAttr, ok := b.Body.Attributes["capabilities"]
			if !ok || len(b.Body.Attributes) != 1 || len(b.Body.Blocks) != 0 {
				t.Errorf("%s: path %q must set capabilities and nothing else", name, b.Labels[0])
				continue
			}
			v, diags := capsAttr.Expr.Value(nil)
			if diags.HasErrors() || !(v.Type().IsTupleType() || v.Type().IsListType()) {
				t.Errorf("%s: path %q: capabilities is not a list of strings", name, b.Labels[0])
				continue
			}
			var caps []string
			for it := v.ElementIterator(); it.Next(); {
				_, c := it.Element()
				if c.Type() != cty.String {
					t.Errorf("%s: path %q: capability %#v is not a string", name, b.Labels[0], c)
					continue
				}
				caps = append(caps, c.AsString())
			}
			out[name] = append(out[name], policyRule{path: b.Labels[0], capabilities: caps})
		}
		if len(out[name]) == 0 {
			t.Errorf("%s: no path blocks", name)
		}
	}
	return out
}

func stringAttr(t *testing.T, b *hclsyntax.Block, name string) string {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	if !ok {
		t.Fatalf("%s %v has no %s", b.Type, b.Labels, name)
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String {
		t.Fatalf("%s %v: %s is not a literal string", b.Type, b.Labels, name)
	}
	return v.AsString()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestTerraform(t *testing.T) {
	tf := parseTerraform(t)

	t.Run("RequiresTheHashicorpVaultProvider", func(t *testing.T) {
		found := false
		for _, body := range tf.files {
			for _, b := range body.Blocks {
				if b.Type != "terraform" {
					continue
				}
				for _, rp := range b.Body.Blocks {
					if rp.Type != "required_providers" {
						continue
					}
					v, diags := rp.Body.Attributes["vault"].Expr.Value(nil)
					if diags.HasErrors() {
						t.Fatal(diags.Error())
					}
					found = v.GetAttr("source").AsString() == "hashicorp/vault"
				}
			}
		}
		if !found {
			t.Fatal(`no required_providers entry vault = { source = "hashicorp/vault" }`)
		}
	})

	t.Run("UsesOnlyResourcesAndArgumentsTheVaultProviderHas", func(t *testing.T) {
		if len(tf.resources) == 0 {
			t.Fatal("no resources")
		}
		for id, b := range tf.resources {
			schema, ok := providerSchema[b.Labels[0]]
			if !ok {
				t.Errorf("%s: resource type not in the vault provider allow-list", id)
				continue
			}
			for name := range b.Body.Attributes {
				if !contains(schema.args, name) && !contains(metaArguments, name) {
					t.Errorf("%s: %s is not an argument of %s", id, name, b.Labels[0])
				}
			}
			for _, nb := range b.Body.Blocks {
				if nb.Type != "lifecycle" && !contains(schema.blocks, nb.Type) {
					t.Errorf("%s: %s is not a block of %s", id, nb.Type, b.Labels[0])
				}
			}
		}
	})

	t.Run("EveryReferenceNamesSomethingDeclared", func(t *testing.T) {
		// Names bound by for expressions.
		bound := map[string]bool{}
		for _, body := range tf.files {
			hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
				if f, ok := n.(*hclsyntax.ForExpr); ok {
					bound[f.KeyVar], bound[f.ValVar] = true, true
				}
				return nil
			})
		}
		for file, body := range tf.files {
			for _, node := range valueNodes(body) {
				hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
					expr, ok := n.(hclsyntax.Expression)
					if !ok {
						return nil
					}
					for _, tr := range expr.Variables() {
						root := tr.RootName()
						switch root {
						case "var":
							if name := attrName(tr, 1); tf.variables[name] == nil {
								t.Errorf("%s: var.%s is not declared", file, name)
							}
						case "local":
							if name := attrName(tr, 1); tf.locals[name] == nil {
								t.Errorf("%s: local.%s is not declared", file, name)
							}
						case "each", "path", "count":
						default:
							if bound[root] {
								continue
							}
							name := attrName(tr, 1)
							r := tf.resources[root+"."+name]
							if r == nil {
								t.Errorf("%s: %s.%s is not a declared resource", file, root, name)
								continue
							}
							attr := attrName(tr, len(tr)-1)
							if _, idx := tr[len(tr)-1].(hcl.TraverseIndex); idx {
								continue
							}
							s := providerSchema[root]
							if attr != name && attr != "id" && !contains(s.args, attr) && !contains(s.exported, attr) {
								t.Errorf("%s: %s has no attribute %s", file, root, attr)
							}
						}
					}
					return nil
				})
			}
		}
	})

	t.Run("PoliciesComeFromThePolicyFiles", func(t *testing.T) {
		dir, ok := tf.locals["policy_dir"]
		if !ok {
			t.Fatal("no local.policy_dir")
		}
		ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"path": cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(filepath.Join(exampleDir, "terraform"))})}}
		v, diags := dir.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		if abs, _ := filepath.Abs(v.AsString()); abs != mustAbs(t, filepath.Join(exampleDir, "policies")) {
			t.Fatalf("local.policy_dir is %s, not examples/access/policies", v.AsString())
		}
		policy := tf.resources["vault_policy.ai"]
		if policy == nil {
			t.Fatal("no vault_policy.ai")
		}
		src := string(policy.Body.Attributes["policy"].Expr.Range().SliceBytes(fileBytes(t, policy)))
		if !strings.HasPrefix(src, "file(") {
			t.Fatalf("vault_policy.ai's policy is %s, not file(...)", src)
		}
	})

	t.Run("EveryGroupMapsToExistingPolicyFiles", func(t *testing.T) {
		v := variableDefault(t, tf, "idp_groups")
		if v.LengthInt() == 0 {
			t.Fatal("idp_groups maps no group")
		}
		for it := v.ElementIterator(); it.Next(); {
			group, policies := it.Element()
			for pit := policies.ElementIterator(); pit.Next(); {
				_, p := pit.Element()
				if _, err := os.Stat(filepath.Join(exampleDir, "policies", p.AsString()+".hcl")); err != nil {
					t.Errorf("group %s: policy %s has no file in examples/access/policies", group.AsString(), p.AsString())
				}
			}
		}
	})
}

func TestPolicies(t *testing.T) {
	engine, err := loadEnginePaths(engineSrcDir)
	if err != nil {
		t.Fatal(err)
	}
	tf := parseTerraform(t)
	var mounts []string
	for id, b := range tf.resources {
		if strings.HasPrefix(id, "vault_mount.") {
			mounts = append(mounts, stringAttr(t, b, "path"))
		}
	}
	sort.Strings(mounts)
	policies := parsePolicies(t)

	t.Run("EngineSourceReadAsExpected", func(t *testing.T) {
		// The checks below are only as good as this reading of the source.
		want := map[string][]string{
			"config":                    {"create", "delete", "read", "update"},
			"config/rotate":             {"update"},
			leasePattern:                {"read", "update"},
			"roles/?":                   {"list"},
			"metrics":                   {"read"},
			"spend":                     {"read"},
			"sweep":                     {"read", "update"},
			"connections/<name>/rotate": {"update"},
		}
		for pattern, ops := range want {
			p := findPattern(engine, pattern)
			if p == nil {
				t.Errorf("no engine path %q", pattern)
				continue
			}
			var got []string
			for op := range p.operations {
				got = append(got, op)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(ops, ",") {
				t.Errorf("%s: operations %v, want %v", pattern, got, ops)
			}
		}
		for _, r := range []string{"metrics", "spend", "sweep"} {
			if p := findPattern(engine, r); p == nil || !p.root {
				t.Errorf("%s is not read as root-protected", r)
			}
		}
		if p := findPattern(engine, leasePattern); p != nil && p.root {
			t.Error("creds is read as root-protected")
		}
	})

	for name, rules := range policies {
		t.Run(name, func(t *testing.T) {
			for _, r := range rules {
				checkRule(t, engine, mounts, r)
			}
		})
	}
}

// checkRule: the path is on an example mount (or a sys lease path below one)
// and names engine paths; each capability is an operation one of them
// answers; sudo is there exactly when one of them is root-protected.
func checkRule(t *testing.T, engine []enginePath, mounts []string, r policyRule) {
	t.Helper()
	for _, c := range r.capabilities {
		if !contains([]string{"create", "read", "update", "patch", "delete", "list", "sudo", "deny"}, c) {
			t.Errorf("%s: %q is not a capability", r.path, c)
		}
	}
	hasSudo := contains(r.capabilities, "sudo")
	for prefix, sys := range sysLeasePaths {
		if rest, ok := strings.CutPrefix(r.path, prefix); ok {
			leasePrefix := strings.TrimSuffix(strings.TrimSuffix(rest, "*"), "/")
			mount, below, _ := strings.Cut(leasePrefix, "/")
			if !contains(mounts, mount) {
				t.Errorf("%s: %s is not an example mount (%v)", r.path, mount, mounts)
				return
			}
			hit := false
			for _, p := range covered(engine, below+"/*") {
				hit = hit || p.pattern == leasePattern
			}
			for _, p := range covered(engine, below) {
				hit = hit || p.pattern == leasePattern
			}
			if !hit {
				t.Errorf("%s: no lease of the engine starts with %s", r.path, leasePrefix)
			}
			for _, c := range r.capabilities {
				if c != "sudo" && !contains(sys.capabilities, c) {
					t.Errorf("%s: %s does nothing on %s", r.path, c, prefix)
				}
			}
			if hasSudo != sys.sudo {
				t.Errorf("%s: sudo is %v, but the server requires it: %v", r.path, hasSudo, sys.sudo)
			}
			return
		}
	}
	for prefix, sys := range sysPaths {
		if device, ok := strings.CutPrefix(r.path, prefix); ok {
			if device == "" || strings.ContainsAny(device, "/*+") {
				t.Errorf("%s: name one audit device", r.path)
			}
			for _, c := range r.capabilities {
				if c != "sudo" && !contains(sys.capabilities, c) {
					t.Errorf("%s: %s does nothing on %s", r.path, c, prefix)
				}
			}
			if hasSudo != sys.sudo {
				t.Errorf("%s: sudo is %v, but the server requires it: %v", r.path, hasSudo, sys.sudo)
			}
			return
		}
	}
	mount, below, ok := strings.Cut(r.path, "/")
	if !ok || !contains(mounts, mount) {
		t.Errorf("%s: not below an example mount (%v) or a known sys lease path", r.path, mounts)
		return
	}
	hits := covered(engine, below)
	if len(hits) == 0 {
		t.Errorf("%s: names no path of the engine", r.path)
		return
	}
	root := false
	for _, c := range r.capabilities {
		if c == "sudo" || c == "deny" {
			continue
		}
		answered := false
		for _, p := range hits {
			answered = answered || p.operations[c]
		}
		if !answered {
			t.Errorf("%s: no engine path there answers %s", r.path, c)
		}
	}
	for _, p := range hits {
		root = root || p.root
	}
	if hasSudo != root {
		t.Errorf("%s: sudo is %v, but the engine's root-protected paths there: %v", r.path, hasSudo, root)
	}
}

// valueNodes are the parts of a Terraform file that hold value expressions:
// not variable types, and not lifecycle's lists of argument names.
func valueNodes(body *hclsyntax.Body) []hclsyntax.Node {
	var out []hclsyntax.Node
	for _, b := range body.Blocks {
		switch b.Type {
		case "variable":
			if d, ok := b.Body.Attributes["default"]; ok {
				out = append(out, d)
			}
		case "terraform":
		default:
			for _, a := range b.Body.Attributes {
				out = append(out, a)
			}
			for _, nb := range b.Body.Blocks {
				if nb.Type != "lifecycle" {
					out = append(out, nb.Body)
				}
			}
		}
	}
	return out
}

func findPattern(paths []enginePath, pattern string) *enginePath {
	for i := range paths {
		if paths[i].pattern == pattern {
			return &paths[i]
		}
	}
	return nil
}

func attrName(tr hcl.Traversal, i int) string {
	if i >= len(tr) {
		return ""
	}
	if a, ok := tr[i].(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

func variableDefault(t *testing.T, tf *terraform, name string) cty.Value {
	t.Helper()
	b := tf.variables[name]
	if b == nil {
		t.Fatalf("no variable %s", name)
	}
	v, diags := b.Body.Attributes["default"].Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return v
}

func fileBytes(t *testing.T, b *hclsyntax.Block) []byte {
	t.Helper()
	src, err := os.ReadFile(b.Range().Filename)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
