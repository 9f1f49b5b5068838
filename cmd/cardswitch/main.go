// Command cardswitch is the ISO 8583 card-network switch and its tools:
// serve, issuer-sim, send, routes and config. See the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// exitError carries an exit status for a failure already reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	if err := newRoot().ExecuteContext(context.Background()); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "cardswitch:", err)
		os.Exit(1)
	}
}
