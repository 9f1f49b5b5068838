package trace

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
)

// dialectNote starts the comment line that notes, at the top of a JSONL
// trace, the dialect its messages went on the wire in. The field values
// of a trace do not depend on it (they are the values of the dialect's
// version, 1987 or 1993); readers that do not know the note skip it as a
// comment.
const dialectNote = "# dialect: "

// WriteDialectNote writes the note line naming the dialect.
func WriteDialectNote(w io.Writer, dialect string) error {
	_, err := io.WriteString(w, dialectNote+dialect+"\n")
	return err
}

// NotedDialect returns the dialect noted at the top of the trace at path
// (among its leading comment lines), "" when there is none or the file is
// not a JSONL trace.
func NotedDialect(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return notedDialect(f), nil
}

func notedDialect(r io.Reader) string {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxJSONLine)
	for first := true; sc.Scan(); first = false {
		line := sc.Bytes()
		if first {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		text := strings.TrimSpace(string(line))
		switch {
		case text == "":
			continue
		case strings.HasPrefix(text, dialectNote):
			return strings.TrimSpace(text[len(dialectNote):])
		case text[0] == '#':
			continue
		}
		return ""
	}
	return ""
}
