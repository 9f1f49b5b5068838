package journal

import "fmt"

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
