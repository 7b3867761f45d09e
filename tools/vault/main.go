// Command vault builds the real HashiCorp Vault server/CLI from the Go module
// proxy. It is the same entry point as Vault's own main.go; see NOTES.md.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() { os.Exit(command.Run(os.Args[1:])) }
