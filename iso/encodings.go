package iso

import (
	"errors"
	"fmt"

	"github.com/moov-io/iso8583/encoding"
	moovspecs "github.com/moov-io/iso8583/specs"
)

// jPOS's binary packagers carry two things moov-io's stock encodings
// cannot: track 2 as right-padded BCD whose '=' separator is the nibble D
// (IFB_LLNUM), and x+n amounts as one sign character followed by BCD
// digits (IFB_AMOUNT). Registering them under a name lets the JSON specs
// use them like any stock encoding (specs.ImportJSON looks names up in
// EncodingsExtToInt).
func init() {
	moovspecs.EncodingsExtToInt["LBCDTrack2"] = Track2BCD
	moovspecs.EncodingsExtToInt["SignBCD"] = SignBCD
	moovspecs.EncodingsExtToInt["EBCDICSignBCD"] = EBCDICSignBCD
	moovspecs.EncodingsIntToExt["track2BCDEncoder"] = "LBCDTrack2"
}

var (
	// Track2BCD packs digits and '=' as BCD nibbles ('=' is D), right-padded
	// with a 0 nibble when odd, as jPOS's IFB_LLNUM (BCDInterpreter) does.
	Track2BCD encoding.Encoder = track2BCDEncoder{}
	// SignBCD packs an x+n amount as jPOS's IFB_AMOUNT: the sign ('C' or
	// 'D') as one ASCII byte, the digits as left-padded BCD.
	SignBCD encoding.Encoder = signBCDEncoder{sign: encoding.ASCII}
	// EBCDICSignBCD is SignBCD with the sign in EBCDIC.
	EBCDICSignBCD encoding.Encoder = signBCDEncoder{sign: encoding.EBCDIC}
)

var errTrack2Char = errors.New("track 2 BCD: only digits and '=' can be packed")

type track2BCDEncoder struct{}

func (track2BCDEncoder) Encode(src []byte) ([]byte, error) {
	dst := make([]byte, (len(src)+1)/2)
	for i, c := range src {
		var n byte
		switch {
		case c >= '0' && c <= '9':
			n = c - '0'
		case c == '=':
			n = 0xD
		default:
			return nil, errTrack2Char
		}
		if i%2 == 0 {
			dst[i/2] = n << 4
		} else {
			dst[i/2] |= n
		}
	}
	return dst, nil
}

func (track2BCDEncoder) Decode(src []byte, length int) ([]byte, int, error) {
	if length < 0 {
		return nil, 0, fmt.Errorf("track 2 BCD: negative length %d", length)
	}
	read := (length + 1) / 2
	if len(src) < read {
		return nil, 0, fmt.Errorf("track 2 BCD: not enough data: need %d bytes, have %d", read, len(src))
	}
	dst := make([]byte, length)
	for i := range dst {
		n := src[i/2] >> 4
		if i%2 == 1 {
			n = src[i/2] & 0x0F
		}
		switch {
		case n <= 9:
			dst[i] = '0' + n
		case n == 0xD:
			dst[i] = '='
		default:
			return nil, 0, fmt.Errorf("track 2 BCD: nibble %X is neither a digit nor the separator", n)
		}
	}
	return dst, read, nil
}

type signBCDEncoder struct{ sign encoding.Encoder }

func (e signBCDEncoder) Encode(src []byte) ([]byte, error) {
	if len(src) < 1 {
		return nil, errors.New("amount: missing sign")
	}
	s, err := e.sign.Encode(src[:1])
	if err != nil {
		return nil, err
	}
	digits, err := encoding.BCD.Encode(src[1:])
	if err != nil {
		return nil, err
	}
	return append(s, digits...), nil
}

func (e signBCDEncoder) Decode(src []byte, length int) ([]byte, int, error) {
	if length < 1 || len(src) < 1 {
		return nil, 0, errors.New("amount: not enough data for the sign")
	}
	s, _, err := e.sign.Decode(src[:1], 1)
	if err != nil {
		return nil, 0, err
	}
	digits, read, err := encoding.BCD.Decode(src[1:], length-1)
	if err != nil {
		return nil, 0, err
	}
	return append(s, digits...), 1 + read, nil
}
