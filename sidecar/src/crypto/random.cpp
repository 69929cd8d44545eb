#include "crypto/random.hpp"

#include <sodium.h>

#include "crypto/encoding.hpp"
#include "crypto/sodium.hpp"

namespace balatrix::sidecar::crypto {

SodiumRandom::SodiumRandom()
{
	EnsureSodium();
}

void
SodiumRandom::Fill(std::uint8_t* out, std::size_t size)
{
	randombytes_buf(out, size);
}

std::string
NewToken(RandomSource& random, std::size_t bytes)
{
	Bytes buffer(bytes);
	random.Fill(buffer.data(), buffer.size());
	std::string token = Base64UrlEncode(View(buffer));
	sodium_memzero(buffer.data(), buffer.size());
	return token;
}

} // namespace balatrix::sidecar::crypto
