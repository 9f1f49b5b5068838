package issuer_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cardswitch/cardswitch/switch/issuer"
)

// A Txn carries what a link needs and nothing of its owner's: an owner
// that needs more per request embeds the Txn in its own type.
func TestTxnHoldsNoOwnerData(t *testing.T) {
	typ := reflect.TypeOf(issuer.Txn{})
	for _, name := range []string{"Spans", "Cookie"} {
		_, found := typ.FieldByName(name)
		assert.False(t, found, name)
	}
}
