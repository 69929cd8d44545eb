#include "http/request_id.hpp"

#include <array>

namespace balatrix::sidecar::http {

bool
IsAcceptableRequestId(std::string_view id)
{
	if (id.empty() || id.size() > kMaxRequestIdLength)
		return false;
	for (const char c : id) {
		const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		                c == '_' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

RequestIdGenerator::RequestIdGenerator()
{
	std::random_device device;
	std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
	engine_.seed(seed);
}

std::string
RequestIdGenerator::Next()
{
	std::uint64_t high = 0;
	std::uint64_t low = 0;
	{
		std::lock_guard lock(mutex_);
		high = engine_();
		low = engine_();
	}
	// RFC 4122 §4.4: version 4 in the high nibble of byte 6, variant 10xx in byte 8.
	high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
	low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;

	static constexpr char kHex[] = "0123456789abcdef";
	std::array<std::uint8_t, 16> bytes{};
	for (int i = 0; i < 8; ++i) {
		bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
		bytes[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
	}
	std::string id;
	id.reserve(36);
	for (std::size_t i = 0; i < bytes.size(); ++i) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			id += '-';
		id += kHex[bytes[i] >> 4];
		id += kHex[bytes[i] & 0x0f];
	}
	return id;
}

std::string
ResolveRequestId(const std::optional<std::string>& incoming, RequestIdGenerator& generator)
{
	if (incoming && IsAcceptableRequestId(*incoming))
		return *incoming;
	return generator.Next();
}

} // namespace balatrix::sidecar::http
