#include "crypto/password.hpp"

#include <charconv>
#include <stdexcept>

#include <sodium.h>

#include "crypto/random.hpp"
#include "crypto/sodium.hpp"

namespace balatrix::sidecar::crypto {
namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$v=19$";

struct EncodedParams {
	unsigned long long memory_kib = 0;
	unsigned long long passes = 0;
};

// Reads "m=65536,t=2,p=1" from "$argon2id$v=19$m=65536,t=2,p=1$salt$hash". nullopt when the shape differs.
std::optional<EncodedParams>
ReadParams(std::string_view stored)
{
	if (stored.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix)
		return std::nullopt;
	stored.remove_prefix(kArgon2idPrefix.size());
	const auto end = stored.find('$');
	if (end == std::string_view::npos)
		return std::nullopt;
	std::string_view fields = stored.substr(0, end);

	EncodedParams params;
	for (const auto& [name, target] : {std::pair<std::string_view, unsigned long long*>{"m=", &params.memory_kib},
	                                   std::pair<std::string_view, unsigned long long*>{"t=", &params.passes}}) {
		if (fields.substr(0, name.size()) != name)
			return std::nullopt;
		fields.remove_prefix(name.size());
		const auto [next, error] = std::from_chars(fields.data(), fields.data() + fields.size(), *target);
		if (error != std::errc() || next == fields.data() || next == fields.data() + fields.size() || *next != ',')
			return std::nullopt;
		fields.remove_prefix(static_cast<std::size_t>(next - fields.data()) + 1);
	}
	if (fields.substr(0, 2) != "p=")
		return std::nullopt;
	return params;
}

} // namespace

Argon2idHasher::Argon2idHasher(Argon2idParams params) : params_(params)
{
	EnsureSodium();
	if (params_.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    params_.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
	    params_.mem_limit_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
	    params_.mem_limit_bytes > crypto_pwhash_argon2id_MEMLIMIT_MAX)
		throw std::invalid_argument("argon2id parameters outside libsodium's limits");

	// The dummy's password is random and forgotten: nothing can ever verify against it.
	SodiumRandom random;
	const std::string throwaway = NewToken(random);
	auto dummy = Hash(throwaway);
	if (!dummy)
		throw std::runtime_error("argon2id: cannot compute the dummy hash (out of memory?)");
	dummy_hash_ = std::move(*dummy);
}

std::optional<std::string>
Argon2idHasher::Hash(std::string_view password) const
{
	if (password.size() > kMaxPasswordBytes)
		return std::nullopt;
	char encoded[crypto_pwhash_STRBYTES];
	if (crypto_pwhash_str_alg(encoded, password.empty() ? "" : password.data(), password.size(), params_.ops_limit,
	                          params_.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return std::nullopt;
	return std::string(encoded);
}

bool
Argon2idHasher::IsUsable(std::string_view stored) const
{
	if (stored.size() >= crypto_pwhash_STRBYTES || stored.find('\0') != std::string_view::npos)
		return false;
	const auto encoded = ReadParams(stored);
	if (!encoded)
		return false;
	const unsigned long long max_kib = params_.mem_limit_bytes / 1024 * kMaxParameterFactor;
	return encoded->memory_kib <= max_kib && encoded->passes <= params_.ops_limit * kMaxParameterFactor;
}

bool
Argon2idHasher::Verify(std::optional<std::string_view> stored, std::string_view password) const
{
	const bool usable = stored && IsUsable(*stored);
	// crypto_pwhash_str_verify wants a NUL-terminated string; the copy is of the hash, not of a secret.
	const std::string hash = usable ? std::string(*stored) : dummy_hash_;
	// An over-long password is checked as an empty one: the work stays the same, the answer false.
	const bool too_long = password.size() > kMaxPasswordBytes;
	const std::string_view checked = too_long ? std::string_view("", 0) : password;
	const bool matches =
		crypto_pwhash_str_verify(hash.c_str(), checked.empty() ? "" : checked.data(), checked.size()) == 0;
	return usable && !too_long && matches;
}

bool
Argon2idHasher::NeedsRehash(std::string_view stored) const
{
	if (!IsUsable(stored))
		return true;
	const std::string hash(stored);
	return crypto_pwhash_str_needs_rehash(hash.c_str(), params_.ops_limit, params_.mem_limit_bytes) != 0;
}

} // namespace balatrix::sidecar::crypto
