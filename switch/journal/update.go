package journal

import (
	"context"
	"fmt"
)

// Update changes an entry's answer after the fact (e.g. marks it late or
// reversed). An empty code or reason keeps the stored one, so the code the
// acquirer saw survives unless the caller means to replace it. Durable when
// it returns.
func (j *Journal) Update(id int64, code string, outcome Outcome, reason string) error {
	if err := j.writable(); err != nil {
		return err
	}
	res, err := j.wdb.ExecContext(context.Background(), `UPDATE entries SET
		response_code = CASE WHEN ?1 = '' THEN response_code ELSE ?1 END,
		outcome = ?2,
		reason = CASE WHEN ?3 = '' THEN reason ELSE ?3 END
		WHERE id = ?4`, code, string(outcome), reason, id)
	return checkOne(res, err, "update entry", "entry", id)
}

// checkOne turns a write's result into a NotFoundError when no row matched.
func checkOne(res interface{ RowsAffected() (int64, error) }, err error, op, kind string, id int64) error {
	if err != nil {
		return fmt.Errorf("journal: %s %d: %w", op, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("journal: %s %d: %w", op, id, err)
	}
	if n == 0 {
		return &NotFoundError{Kind: kind, ID: id}
	}
	return nil
}
