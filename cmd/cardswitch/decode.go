package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/moov-io/iso8583"
	moovErrors "github.com/moov-io/iso8583/errors"
	"github.com/moov-io/iso8583/field"
	"github.com/spf13/cobra"

	"github.com/cardswitch/cardswitch/internal/pan"
	"github.com/cardswitch/cardswitch/iso"
)

func newDecode() *cobra.Command {
	var dialect, configPath string
	var framed bool
	cmd := &cobra.Command{
		Use:   "decode --dialect D [--config FILE] [--framed] [HEX]",
		Short: "Print the fields of a hex ISO 8583 frame in a dialect (card data masked)",
		Long: `decode reads one frame as hex (the argument, or stdin; spaces and newlines
are ignored) and prints its fields. Without --framed the hex is the message
alone (what jPOS's ISOMsg.pack() returns: MTI, bitmap, fields); with
--framed it starts with the dialect's length header and header (TPDU or
fixed bytes), as captured on the wire. With --config FILE, --dialect may
also name one of FILE's user-defined dialects (dialects:).

PANs (2, 34) are masked to their first 6 and last 4 digits; track data
(35, 36, 45) shows only a masked PAN; PIN data (52), security data (53)
and EMV data (55) print as their length only. A frame that does not decode
exits 1 naming the field.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := lookupDialect(dialect, configPath)
			if err != nil {
				return fmt.Errorf("--dialect: %w", err)
			}
			raw, err := readHexFrame(cmd.InOrStdin(), args)
			if err != nil {
				return err
			}
			return decodeFrame(cmd.OutOrStdout(), d, raw, framed)
		},
	}
	cmd.Flags().StringVar(&dialect, "dialect", "iso87ascii", "the dialect the frame is in (see `cardswitch dialects`)")
	cmd.Flags().StringVar(&configPath, "config", "", configFlagUsage)
	cmd.Flags().BoolVar(&framed, "framed", false, "the hex starts with the dialect's length header and header")
	return cmd
}

// readHexFrame reads the frame's hex from the argument or stdin.
func readHexFrame(stdin io.Reader, args []string) ([]byte, error) {
	var text string
	if len(args) == 1 {
		text = args[0]
	} else {
		b, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		text = string(b)
	}
	text = strings.Join(strings.Fields(text), "")
	raw, err := hex.DecodeString(text)
	if err != nil {
		return nil, errors.New("the frame is not hex (want an even number of hex digits)")
	}
	if len(raw) == 0 {
		return nil, errors.New("empty frame")
	}
	return raw, nil
}

// decodeFrame prints the envelope (when framed) and the fields of raw.
func decodeFrame(w io.Writer, d iso.Dialect, raw []byte, framed bool) error {
	spec, err := d.Spec()
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "dialect  %s (ISO 8583:%d)\n", d.Name, d.Version)
	if framed {
		if raw, err = unframe(&b, d, raw); err != nil {
			return err
		}
	}
	msg := iso8583.NewMessage(spec)
	if err := msg.Unpack(raw); err != nil {
		return unpackError(err)
	}
	writeFields(&b, msg)
	if again, err := msg.Pack(); err == nil && len(again) < len(raw) {
		fmt.Fprintf(&b, "warning  %d trailing bytes after the last field\n", len(raw)-len(again))
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// unframe strips the length header and header, printing them.
func unframe(b *strings.Builder, d iso.Dialect, raw []byte) ([]byte, error) {
	fr := iso.NewFramedReader(bytes.NewReader(raw), d.Framing, len(raw))
	hdr, msg, err := fr.Next()
	if err != nil {
		return nil, fmt.Errorf("--framed: %w", err)
	}
	ls := d.Framing.Length.Size()
	fmt.Fprintf(b, "length   %s %X: %d bytes\n", d.Framing.Length, raw[:ls], len(hdr)+len(msg))
	if len(hdr) > 0 {
		fmt.Fprintf(b, "header   %s %X\n", d.Framing.HeaderString(), hdr)
	}
	if rest := len(raw) - ls - len(hdr) - len(msg); rest > 0 && d.Framing.Length != iso.LengthNone {
		fmt.Fprintf(b, "warning  %d bytes after the frame ignored\n", rest)
	}
	return msg, nil
}

// unpackError names the field moov could not unpack. The reason is
// moov's text, which describes lengths and encodings, not field data.
func unpackError(err error) error {
	var ue *moovErrors.UnpackError
	if errors.As(err, &ue) {
		return fmt.Errorf("decode: field %s: %v", ue.FieldID, ue.Err)
	}
	return fmt.Errorf("decode: %v", err)
}

// writeFields prints one line per field present, in field order.
func writeFields(b *strings.Builder, msg *iso8583.Message) {
	fields := msg.GetFields()
	ids := make([]int, 0, len(fields))
	for id := range fields {
		if id != 1 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	rows := [][]string{}
	for _, id := range ids {
		f := fields[id]
		label := "MTI"
		if id != 0 {
			label = fmt.Sprintf("%3d", id)
		}
		rows = append(rows, []string{label, f.Spec().Description, shownValue(id, f)})
	}
	writeColumns(b, rows)
}

// shownValue is a field's value as decode may print it: card data masked
// or withheld, bytes as hex, text quoted when it holds non-printables.
func shownValue(id int, f field.Field) string {
	raw, err := f.Bytes()
	if err != nil {
		return "(unreadable)"
	}
	switch id {
	case 2, 34:
		return pan.Mask(raw)
	case 35, 36, 45:
		return maskTrack(raw)
	case 52, 53, 55:
		return fmt.Sprintf("(%d bytes, not shown)", len(raw))
	}
	if _, ok := f.(*field.Binary); ok {
		return strings.ToUpper(hex.EncodeToString(raw))
	}
	s, err := f.String()
	if err != nil {
		return "(unreadable)"
	}
	if strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// maskTrack shows a track's PAN masked and hides the rest: expiry,
// service code and discretionary data are as secret as the PAN.
func maskTrack(t []byte) string {
	s := string(t)
	s = strings.TrimPrefix(s, ";")
	if len(s) > 0 && (s[0] == '%' || s[0] == 'B') { // track 1: %B<PAN>^...
		s = strings.TrimLeft(s, "%B")
	}
	end := strings.IndexAny(s, "=^D")
	if end < 0 {
		end = min(len(s), 19)
	}
	return fmt.Sprintf("%s... (%d characters, rest not shown)", pan.Mask([]byte(s[:end])), len(t))
}
