#include "crypto/sodium.hpp"

#include <stdexcept>

#include <sodium.h>

namespace balatrix::sidecar::crypto {

void
EnsureSodium()
{
	if (sodium_init() < 0)
		throw std::runtime_error("libsodium could not be initialised");
}

} // namespace balatrix::sidecar::crypto
