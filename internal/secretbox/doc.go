// Package secretbox encrypts connector secrets before they are stored in
// the database, with AES-256-GCM under a key ring that supports rotation.
//
// # Key ring
//
// The ring is one text value, read by the gateway from the environment
// variable CONSENTGATE_SECRET_KEYS, or from the file named by
// CONSENTGATE_SECRET_KEYS_FILE. It lists keys separated by commas or new
// lines, each written ID:MATERIAL or just MATERIAL:
//
//	CONSENTGATE_SECRET_KEYS="2025-06:4q3…(openssl rand -base64 32)…,2024-11:Vb7…"
//
// MATERIAL is at least 32 characters of random text (e.g. the output of
// `openssl rand -base64 32`); the AES key is derived from it with
// HKDF-SHA256. ID is 1 to 32 letters, digits, '.', '_' or '-'; without one,
// the ID is derived from the key (a short fingerprint). The FIRST key
// encrypts; every key decrypts.
//
// # Ciphertext
//
// A sealed value is text: "cgsb1:ID:BASE64URL(nonce || ciphertext+tag)".
// It names the key that sealed it, so a value sealed under a key that is
// not in the ring fails with ErrUnknownKey, naming the ID, and a value that
// does not open under the key of its ID (wrong material for that ID, or a
// tampered value) fails with ErrWrongKey. Neither ever yields garbage. The
// caller passes additional data (the connector id and secret name), so a
// sealed value copied to another connector or secret does not open.
//
// # Rotation
//
//  1. Put a new key first and keep the old ones after it, on every
//     instance: new and rotated secrets are sealed under the new key, old
//     ones still open.
//  2. Re-seal what is stored: `consentgate reseal-secrets --config FILE` (or re-apply
//     each connector's secrets through the API).
//  3. Remove the old key once no stored value names it; an instance that
//     finds a value under a key it lacks refuses to start and says which.
package secretbox
