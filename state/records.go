package state

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/xferhunt/xferhunt/triage"
)

// Triage is the workflow state an analyst gave an alert.
type Triage struct {
	// Status is Kibana's workflow_status, stored as its word ("open",
	// "acknowledged" or "closed").
	Status triage.Status `json:"status"`
	At     time.Time     `json:"at"`
}

// SetTriage records the workflow status of alert uuid.
func (s *Store) SetTriage(uuid string, t Triage) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode triage of %s: %w", uuid, err)
	}
	return s.putOne(bucketTriage, uuid, b, "triage")
}

// Triage returns the recorded workflow status of alert uuid.
func (s *Store) Triage(uuid string) (Triage, bool, error) {
	var t Triage
	b, err := s.getOne(bucketTriage, uuid)
	if err != nil || b == nil {
		return t, false, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, false, fmt.Errorf("decode triage of %s: %w", uuid, err)
	}
	return t, true, nil
}

// AllTriage returns every recorded workflow status, keyed by alert uuid.
func (s *Store) AllTriage() (map[string]Triage, error) {
	out := map[string]Triage{}
	err := s.kv.view(func(tx txn) error {
		return tx.each([2]string{string(bucketTriage)}, func(k string, v []byte) error {
			var t Triage
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("decode triage of %s: %w", k, err)
			}
			out[k] = t
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read triage: %w", err)
	}
	return out, nil
}

// Item is one stored record: a key and the caller's opaque bytes.
type Item struct {
	Key  string
	Data []byte
}

// PutException stores an exception item under id; data is the caller's
// serialization (the state store does not interpret it).
func (s *Store) PutException(id string, data []byte) error {
	return s.putOne(bucketExceptions, id, data, "exception")
}

// DeleteException forgets the exception item id.
func (s *Store) DeleteException(id string) error {
	err := s.kv.update(func(tx txn) error { return tx.del([2]string{string(bucketExceptions)}, id) })
	if err != nil {
		return fmt.Errorf("delete exception %s: %w", id, err)
	}
	return nil
}

// Exceptions returns every stored exception item, ordered by id.
func (s *Store) Exceptions() ([]Item, error) { return s.all(bucketExceptions, "exceptions") }

// PutEvidence stores the evidence record (JSON) of alert uuid.
func (s *Store) PutEvidence(uuid string, data []byte) error {
	if !json.Valid(data) {
		return fmt.Errorf("store evidence %s: not valid JSON", uuid)
	}
	return s.putOne(bucketEvidence, uuid, data, "evidence")
}

// Evidence returns the evidence record of alert uuid, nil when there is none.
func (s *Store) Evidence(uuid string) ([]byte, error) { return s.getOne(bucketEvidence, uuid) }

// AllEvidence returns every evidence record, ordered by alert uuid.
func (s *Store) AllEvidence() ([]Item, error) { return s.all(bucketEvidence, "evidence") }

func (s *Store) putOne(bucket []byte, key string, data []byte, what string) error {
	err := s.kv.update(func(tx txn) error { return tx.put([2]string{string(bucket)}, key, data) })
	if err != nil {
		return fmt.Errorf("store %s %s: %w", what, key, err)
	}
	return nil
}

func (s *Store) getOne(bucket []byte, key string) ([]byte, error) {
	var out []byte
	err := s.kv.view(func(tx txn) error {
		out = tx.get([2]string{string(bucket)}, key)
		return nil
	})
	return out, err
}

func (s *Store) all(bucket []byte, what string) ([]Item, error) {
	var out []Item
	err := s.kv.view(func(tx txn) error {
		return tx.each([2]string{string(bucket)}, func(k string, v []byte) error {
			out = append(out, Item{Key: k, Data: append([]byte(nil), v...)})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}
