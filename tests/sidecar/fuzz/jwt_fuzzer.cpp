// libFuzzer target for the JWT parser (optional; see tests/sidecar/CMakeLists.txt, BALATRIX_BUILD_FUZZERS).
//
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DBALATRIX_BUILD_FUZZERS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
//   cmake --build build-fuzz --target balatrix_jwt_fuzzer
//   mkdir -p /tmp/jwt-corpus && cp tests/sidecar/fuzz/corpus/* /tmp/jwt-corpus/   # libFuzzer adds to it
//   build-fuzz/tests/sidecar/balatrix_jwt_fuzzer -max_total_time=60 -max_len=9000 /tmp/jwt-corpus
//
// Every input goes through Hs256JwtCodec::Verify with a fixed key and clock. The process aborts (a finding)
// when Verify accepts a token whose last segment is not the genuine HMAC-SHA256 of the rest under that key
// (computed here independently of Verify's own path), or when a sanitizer fires. The seed corpus holds
// validly signed tokens, so accepted inputs are expected; forged ones are the finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "crypto/digest.hpp"
#include "crypto/jwt.hpp"

namespace {

using balatrix::sidecar::Clock;
using namespace balatrix::sidecar::crypto;

class FixedClock final : public Clock {
public:
	std::chrono::system_clock::time_point
	Now() const override
	{
		return std::chrono::system_clock::time_point(std::chrono::seconds(1795514400));
	}
};

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
	static const std::string key = "fuzz-secret-0123456789-0123456789-abcdef";
	static const FixedClock clock;
	static const Hs256JwtCodec codec(key, JwtOptions{}, clock);

	const std::string_view token(reinterpret_cast<const char*>(data), size);
	const auto result = codec.Verify(token);
	if (!std::holds_alternative<AccessClaims>(result))
		return 0;
	const auto last_dot = token.rfind('.');
	if (last_dot == std::string_view::npos ||
	    token.substr(last_dot + 1) != HmacSha256Base64Url(key, token.substr(0, last_dot)))
		std::abort();
	return 0;
}
