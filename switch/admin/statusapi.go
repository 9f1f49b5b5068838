package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Status is what the status page's JSON endpoints ask of the switch
// (README "Status page"). Every value returned must marshal to JSON, and
// none may hold a full PAN.
type Status interface {
	// StatusJSON is the state behind GET /status.json.
	StatusJSON() any
	// Transactions lists the last finished transactions that match f,
	// newest first, at most f.Limit. An error that is a *ParamError names
	// a malformed filter (400).
	Transactions(f TxnFilter) (any, error)
	// Lookup explains where pan (1 to 19 digits, checked) routes, as
	// `cardswitch routes lookup` does.
	Lookup(pan []byte) any
}

// TxnFilter selects transactions: each set field must match exactly.
type TxnFilter struct {
	Issuer  string
	Code    string
	Outcome string
	Limit   int
}

// MaxTransactions is the most transactions GET /status/transactions
// returns, and its default limit.
const MaxTransactions = 50

// ParamError is a malformed query parameter or body field: its message
// names it, and is safe to log and to send (it holds no card data).
type ParamError struct {
	Param string
	Msg   string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

// maxLookupBody bounds the lookup request body: a PAN in JSON is tens of
// bytes.
const maxLookupBody = 1 << 10

// SetStatus gives the listener the status page's data source; nil leaves
// the JSON endpoints answering 404.
func (s *Server) SetStatus(st Status) {
	if st == nil {
		s.status.Store(nil)
		return
	}
	s.status.Store(&st)
}

func (s *Server) statusRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /status.json", s.withStatus(func(w http.ResponseWriter, _ *http.Request, st Status) {
		s.writeJSON(w, http.StatusOK, st.StatusJSON())
	}))
	mux.HandleFunc("GET /status/transactions", s.withStatus(s.statusTransactions))
	mux.HandleFunc("POST /status/lookup", s.withStatus(s.statusLookup))
	mux.HandleFunc("GET /status/login", s.loginForm)
	mux.HandleFunc("POST /status/login", s.login)
	mux.HandleFunc("POST /status/logout", s.logout)
}

// withStatus runs h with the status source, or answers 404 JSON when the
// listener has none.
func (s *Server) withStatus(h func(http.ResponseWriter, *http.Request, Status)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := s.status.Load()
		if st == nil {
			s.writeJSON(w, http.StatusNotFound, adminError{Error: "this listener has no status data"})
			return
		}
		h(w, r, *st)
	}
}

func (s *Server) statusTransactions(w http.ResponseWriter, r *http.Request, st Status) {
	f, err := txnFilter(r)
	var list any
	if err == nil {
		list, err = st.Transactions(f)
	}
	if pe := (*ParamError)(nil); errors.As(err, &pe) {
		s.writeJSON(w, http.StatusBadRequest, adminError{Error: pe.Error()})
		return
	}
	if err != nil {
		s.log.Error("admin: status transactions", "err", err)
		s.writeJSON(w, http.StatusInternalServerError, adminError{Error: "internal error"})
		return
	}
	s.writeJSON(w, http.StatusOK, list)
}

// txnFilter reads the query of GET /status/transactions. The outcome is
// checked by the Status, which knows the outcomes.
func txnFilter(r *http.Request) (TxnFilter, error) {
	q := r.URL.Query()
	f := TxnFilter{Issuer: q.Get("issuer"), Code: q.Get("code"), Outcome: q.Get("outcome"), Limit: MaxTransactions}
	if f.Code != "" && !codeParam(f.Code) {
		return f, &ParamError{Param: "code", Msg: "two letters or digits, e.g. 05"}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxTransactions {
			return f, &ParamError{Param: "limit", Msg: fmt.Sprintf("a number from 1 to %d", MaxTransactions)}
		}
		f.Limit = n
	}
	return f, nil
}

func codeParam(c string) bool {
	if len(c) != 2 {
		return false
	}
	for _, b := range []byte(c) {
		if !(b >= '0' && b <= '9' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z') {
			return false
		}
	}
	return true
}

// lookupBody is POST /status/lookup's body.
type lookupBody struct {
	PAN string `json:"pan"`
}

// statusLookup is a POST with the PAN in the body, so that no PAN sits
// in a URL, an access log or the browser's history.
func (s *Server) statusLookup(w http.ResponseWriter, r *http.Request, st Status) {
	var body lookupBody
	dec := json.NewDecoder(io.LimitReader(r.Body, maxLookupBody))
	if err := dec.Decode(&body); err != nil {
		// The decoder's message may quote the body: it is not echoed.
		s.writeJSON(w, http.StatusBadRequest, adminError{Error: `body: a JSON object {"pan": "<digits>"}`})
		return
	}
	if !panParam(body.PAN) {
		s.writeJSON(w, http.StatusBadRequest, adminError{Error: "pan: digits only, 1 to 19"})
		return
	}
	s.writeJSON(w, http.StatusOK, st.Lookup([]byte(body.PAN)))
}

func panParam(p string) bool {
	if len(p) < 1 || len(p) > 19 {
		return false
	}
	for _, b := range []byte(p) {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}
