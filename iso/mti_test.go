package iso

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMTI(t *testing.T) {
	tests := []struct {
		mti     string
		request bool
		resp    string
	}{
		{"0100", true, "0110"},
		{"0200", true, "0210"},
		{"0400", true, "0410"},
		{"0420", true, "0430"},
		{"0800", true, "0810"},
		{"0110", false, "0110"},
		{"0430", false, "0430"},
		{"01X0", false, "01X0"},
		{"010", false, "010\x00"},
		{"", false, "\x00\x00\x00\x00"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.request, IsRequestMTI([]byte(tt.mti)), tt.mti)
		r := ResponseMTI([]byte(tt.mti))
		require.Equal(t, tt.resp, string(r[:]), tt.mti)
	}
}
