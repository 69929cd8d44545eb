#include "crypto/digest.hpp"

#include <memory>
#include <stdexcept>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "crypto/encoding.hpp"

namespace balatrix::sidecar::crypto {
namespace {

struct MdContextFree {
	void
	operator()(EVP_MD_CTX* context) const
	{
		EVP_MD_CTX_free(context);
	}
};

struct MacFree {
	void
	operator()(EVP_MAC* mac) const
	{
		EVP_MAC_free(mac);
	}
};

struct MacContextFree {
	void
	operator()(EVP_MAC_CTX* context) const
	{
		EVP_MAC_CTX_free(context);
	}
};

using MdContext = std::unique_ptr<EVP_MD_CTX, MdContextFree>;
using Mac = std::unique_ptr<EVP_MAC, MacFree>;
using MacContext = std::unique_ptr<EVP_MAC_CTX, MacContextFree>;

[[noreturn]] void
Fail(const char* what)
{
	throw std::runtime_error(std::string("OpenSSL: ") + what);
}

// A non-null pointer even for empty input: some OpenSSL entry points reject (nullptr, 0).
const unsigned char*
Data(std::string_view bytes)
{
	static constexpr unsigned char kEmpty = 0;
	return bytes.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(bytes.data());
}

} // namespace

Sha256Digest
Sha256(std::string_view bytes)
{
	MdContext context(EVP_MD_CTX_new());
	if (!context)
		Fail("EVP_MD_CTX_new failed");
	Sha256Digest digest{};
	unsigned int length = 0;
	if (EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1 ||
	    EVP_DigestUpdate(context.get(), Data(bytes), bytes.size()) != 1 ||
	    EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1 || length != digest.size())
		Fail("SHA-256 failed");
	return digest;
}

std::string
Sha256Hex(std::string_view bytes)
{
	return HexEncode(View(Sha256(bytes)));
}

Sha256Digest
HmacSha256(std::string_view key, std::string_view message)
{
	Mac mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
	if (!mac)
		Fail("HMAC is not available");
	MacContext context(EVP_MAC_CTX_new(mac.get()));
	if (!context)
		Fail("EVP_MAC_CTX_new failed");
	char digest_name[] = "SHA256";
	const OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
		OSSL_PARAM_construct_end(),
	};
	Sha256Digest out{};
	std::size_t length = 0;
	if (EVP_MAC_init(context.get(), Data(key), key.size(), params) != 1 ||
	    EVP_MAC_update(context.get(), Data(message), message.size()) != 1 ||
	    EVP_MAC_final(context.get(), out.data(), &length, out.size()) != 1 || length != out.size())
		Fail("HMAC-SHA256 failed");
	return out;
}

std::string
HmacSha256Hex(std::string_view key, std::string_view message)
{
	return HexEncode(View(HmacSha256(key, message)));
}

std::string
HmacSha256Base64Url(std::string_view key, std::string_view message)
{
	return Base64UrlEncode(View(HmacSha256(key, message)));
}

bool
ConstantTimeEquals(std::string_view a, std::string_view b)
{
	if (a.size() != b.size())
		return false;
	if (a.empty())
		return true;
	return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace balatrix::sidecar::crypto
