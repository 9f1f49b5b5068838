package journal

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The writer talks to SQLite's C API (as transpiled by modernc) on the
// connection database/sql gave it, because modernc.org/sqlite v1.40's
// statements keep only their SQL text: every Exec, prepared or not, runs
// sqlite3_prepare_v2 again, and binds each text argument with a C malloc.
// Here a statement is prepared once per connection and reused
// (bind/step/reset), and text is bound SQLITE_STATIC from one C buffer.
//
// Rules: a rawConn is only used inside sql.Conn.Raw (database/sql holds the
// connection's lock), and only with C memory: modernc's C code reads
// pointers as integers, which -race's checkptr rejects for Go heap memory.

// rawConn is the driver connection's sqlite3* and its libc thread state.
type rawConn struct {
	tls *libc.TLS
	db  uintptr
}

var tlsType = reflect.TypeFor[*libc.TLS]()

// rawOf finds the sqlite3* in modernc's driver connection (unexported
// fields db and tls). The module version is pinned in go.mod; a driver that
// changed its layout fails here, at Open, with this error.
func rawOf(driverConn any) (rawConn, error) {
	v := reflect.ValueOf(driverConn)
	if v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
		db, tls := v.Elem().FieldByName("db"), v.Elem().FieldByName("tls")
		if db.IsValid() && db.Kind() == reflect.Uintptr && tls.IsValid() && tls.Type() == tlsType &&
			db.Uint() != 0 && !tls.IsNil() {
			return rawConn{tls: (*libc.TLS)(tls.UnsafePointer()), db: uintptr(db.Uint())}, nil
		}
	}
	return rawConn{}, fmt.Errorf("journal: sqlite driver connection %T has no db/tls fields (driver version changed?)", driverConn)
}

// errorOf describes rc with the connection's latest error message.
func (c rawConn) errorOf(rc int32) error {
	str := libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	msg := libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	if msg == str || msg == "" {
		return fmt.Errorf("%s (%d)", str, rc)
	}
	return fmt.Errorf("%s: %s (%d)", str, msg, rc)
}

// inTx reports whether a transaction is open on the connection.
func (c rawConn) inTx() bool { return sqlite3.Xsqlite3_get_autocommit(c.tls, c.db) == 0 }

// rawStmt is a statement prepared once (SQLITE_PREPARE_PERSISTENT).
type rawStmt uintptr

func (c rawConn) prepare(query string) (rawStmt, error) {
	z := c.malloc(len(query) + 1)
	pp := c.malloc(int(unsafe.Sizeof(uintptr(0))))
	defer c.free(z)
	defer c.free(pp)
	if z == 0 || pp == 0 {
		return 0, errors.New("out of memory")
	}
	b := cbytes(z, len(query)+1)
	b[copy(b, query)] = 0
	if rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, z, int32(len(query)+1), sqlite3.SQLITE_PREPARE_PERSISTENT, pp, 0); rc != sqlite3.SQLITE_OK {
		return 0, c.errorOf(rc)
	}
	return rawStmt(*(*uintptr)(cptr(pp))), nil
}

// bindBlob binds n bytes at C address p; they must stay unchanged until
// the statement is reset. n may be 0; p must not be 0 (that would bind
// NULL).
func (c rawConn) bindBlob(s rawStmt, i int, p uintptr, n int) error {
	if rc := sqlite3.Xsqlite3_bind_blob(c.tls, uintptr(s), int32(i), p, int32(n), 0 /* SQLITE_STATIC */); rc != sqlite3.SQLITE_OK {
		return c.errorOf(rc)
	}
	return nil
}

func (c rawConn) bindInt(s rawStmt, i int, v int64) error {
	if rc := sqlite3.Xsqlite3_bind_int64(c.tls, uintptr(s), int32(i), v); rc != sqlite3.SQLITE_OK {
		return c.errorOf(rc)
	}
	return nil
}

// run steps s once, reads the first columns of its row (if it returned one)
// into cols, and resets s.
func (c rawConn) run(s rawStmt, cols ...*int64) error {
	rc := sqlite3.Xsqlite3_step(c.tls, uintptr(s))
	if rc == sqlite3.SQLITE_ROW {
		for i, p := range cols {
			*p = sqlite3.Xsqlite3_column_int64(c.tls, uintptr(s), int32(i))
		}
	}
	var err error
	if rc != sqlite3.SQLITE_DONE && rc != sqlite3.SQLITE_ROW {
		err = c.errorOf(rc)
	}
	sqlite3.Xsqlite3_reset(c.tls, uintptr(s)) // repeats step's error code, already taken
	return err
}

func (c rawConn) finalize(s rawStmt) {
	if s != 0 {
		sqlite3.Xsqlite3_finalize(c.tls, uintptr(s))
	}
}

// malloc returns C memory (0 when out of memory).
func (c rawConn) malloc(n int) uintptr { return sqlite3.Xsqlite3_malloc64(c.tls, uint64(n)) }

func (c rawConn) free(p uintptr) {
	if p != 0 {
		sqlite3.Xsqlite3_free(c.tls, p)
	}
}

// cptr turns a C address into a pointer (C memory is outside the Go heap,
// so the GC ignores it). Reinterpreting the variable, rather than
// converting the integer, is the form vet accepts.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// cbytes is the n bytes of C memory at p, writable from Go.
func cbytes(p uintptr, n int) []byte { return unsafe.Slice((*byte)(cptr(p)), n) }
