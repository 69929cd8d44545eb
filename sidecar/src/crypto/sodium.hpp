/*
 * libsodium initialisation. sodium_init() must run before any other libsodium call; it is idempotent and
 * thread-safe (later calls return 1 at once), so every component that uses libsodium calls EnsureSodium()
 * in its constructor instead of relying on a global initialiser.
 */
#pragma once

namespace balatrix::sidecar::crypto {

// Throws std::runtime_error when libsodium cannot initialise (no usable random source): nothing secure can
// be done then, and the process should not start.
void EnsureSodium();

} // namespace balatrix::sidecar::crypto
