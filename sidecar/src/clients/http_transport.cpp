#include "clients/http_transport.hpp"

#include <algorithm>
#include <cstddef>
#include <exception>
#include <new>

#include <curl/curl.h>

// The libcurl transport. Every Send owns one easy handle and one header list, both released by unique_ptr
// deleters on every path out (including a std::bad_alloc from a callback-free part of the function); nothing is
// shared between calls, so Send is safe from several threads once curl_global_init has run.

namespace balatrix::sidecar::clients {
namespace {

// A gateway answer is a few kilobytes; anything this large is a misbehaving peer, and unbounded buffering of
// it would let that peer exhaust the sidecar's memory.
constexpr std::size_t kMaxBodyBytes = 8 * 1024 * 1024;

struct EasyDeleter {
	void
	operator()(CURL* handle) const
	{
		curl_easy_cleanup(handle);
	}
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
	void
	operator()(curl_slist* list) const
	{
		curl_slist_free_all(list);
	}
};
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

// What the callbacks collect. They run inside curl_easy_perform, a C frame: an exception must not cross it,
// so each callback catches everything and answers with a short count, which makes curl abort the transfer.
struct Collected {
	std::vector<std::pair<std::string, std::string>> headers;
	std::string body;
	bool too_large = false;
	bool callback_failed = false;
};

bool
IsBlank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string
Trimmed(std::string_view text)
{
	while (!text.empty() && IsBlank(text.front()))
		text.remove_prefix(1);
	while (!text.empty() && IsBlank(text.back()))
		text.remove_suffix(1);
	return std::string(text);
}

std::string
LowerCased(std::string_view text)
{
	std::string lower(text);
	for (auto& c : lower) {
		if (c >= 'A' && c <= 'Z')
			c = static_cast<char>(c - 'A' + 'a');
	}
	return lower;
}

std::size_t
OnHeader(char* data, std::size_t size, std::size_t count, void* user)
{
	auto* collected = static_cast<Collected*>(user);
	const std::size_t length = size * count;
	try {
		const std::string_view line(data, length);
		// A status line starts a new response: after "HTTP/1.1 100 Continue" the real one follows, and only its
		// headers describe the body we keep.
		if (line.rfind("HTTP/", 0) == 0) {
			collected->headers.clear();
			return length;
		}
		const auto colon = line.find(':');
		if (colon == std::string_view::npos || colon == 0)
			return length; // the blank line ending the block, or an obsolete folded line: nothing to keep
		collected->headers.emplace_back(LowerCased(Trimmed(line.substr(0, colon))), Trimmed(line.substr(colon + 1)));
		return length;
	} catch (...) {
		collected->callback_failed = true;
		return 0;
	}
}

std::size_t
OnBody(char* data, std::size_t size, std::size_t count, void* user)
{
	auto* collected = static_cast<Collected*>(user);
	const std::size_t length = size * count;
	if (collected->body.size() + length > kMaxBodyBytes) {
		collected->too_large = true;
		return 0;
	}
	try {
		collected->body.append(data, length);
		return length;
	} catch (...) {
		collected->callback_failed = true;
		return 0;
	}
}

// An HTTP method is a token; we only ever send upper-case ones. Anything else (a space, CR/LF) would let a
// caller forge the request line.
bool
IsValidMethod(const std::string& method)
{
	if (method.empty() || method.size() > 16)
		return false;
	return std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool
IsTokenChar(char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// CR, LF or NUL in a header would split it into two headers (header injection) or truncate it in libcurl.
bool
IsValidHeader(const std::pair<std::string, std::string>& header)
{
	const auto& [name, value] = header;
	if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar))
		return false;
	return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

bool
HasHeader(const HttpRequest& request, std::string_view lowercase_name)
{
	return std::any_of(request.headers.begin(), request.headers.end(),
	                   [&](const auto& header) { return LowerCased(header.first) == lowercase_name; });
}

// The pieces of the URL's userinfo ("user:password@"), which must never appear in an error text.
std::vector<std::string>
UserinfoSecrets(std::string_view url)
{
	std::vector<std::string> secrets;
	const auto scheme_end = url.find("://");
	if (scheme_end == std::string_view::npos)
		return secrets;
	auto authority = url.substr(scheme_end + 3);
	authority = authority.substr(0, authority.find_first_of("/?#"));
	const auto at = authority.rfind('@');
	if (at == std::string_view::npos)
		return secrets;
	const auto userinfo = authority.substr(0, at);
	secrets.emplace_back(userinfo);
	const auto colon = userinfo.find(':');
	if (colon != std::string_view::npos) {
		secrets.emplace_back(userinfo.substr(0, colon));
		secrets.emplace_back(userinfo.substr(colon + 1));
	}
	return secrets;
}

std::string
Scrubbed(std::string text, const std::vector<std::string>& secrets)
{
	for (const auto& secret : secrets) {
		if (secret.empty())
			continue;
		for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
			text.replace(at, secret.size(), "***");
	}
	return text;
}

HttpResponse
Failure(TransportFailure failure, std::string error)
{
	HttpResponse response;
	response.failure = failure;
	response.error = std::move(error);
	return response;
}

TransportFailure
Classify(CURLcode code, CURL* handle)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return TransportFailure::kConnect;
	case CURLE_OPERATION_TIMEDOUT: {
		// A timeout before the TCP connection was established (connect_timeout) is as certain as a refusal:
		// not one byte of the request left. Once connected, the peer may have acted on it.
		curl_off_t connect_us = 0;
		if (curl_easy_getinfo(handle, CURLINFO_CONNECT_TIME_T, &connect_us) == CURLE_OK && connect_us == 0)
			return TransportFailure::kConnect;
		return TransportFailure::kTimeout;
	}
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return TransportFailure::kDropped;
	default:
		return TransportFailure::kOther;
	}
}

long
ClampedMilliseconds(std::chrono::milliseconds value)
{
	// 0 means "no timeout" to libcurl; a caller asking for 0 gets the shortest real one instead.
	return static_cast<long>(std::clamp<std::chrono::milliseconds::rep>(value.count(), 1, 24L * 3600 * 1000));
}

class CurlTransport final : public HttpTransport {
public:
	HttpResponse Send(const HttpRequest& request) override;
};

HttpResponse
CurlTransport::Send(const HttpRequest& request)
{
	const auto started = std::chrono::steady_clock::now();
	if (!IsValidMethod(request.method))
		return Failure(TransportFailure::kOther, "invalid HTTP method");
	if (request.url.rfind("http://", 0) != 0 && request.url.rfind("https://", 0) != 0)
		return Failure(TransportFailure::kOther, "only http:// and https:// URLs are allowed");
	if (!std::all_of(request.headers.begin(), request.headers.end(), IsValidHeader))
		return Failure(TransportFailure::kOther, "invalid request header name or value");

	EasyHandle handle(curl_easy_init());
	if (!handle)
		return Failure(TransportFailure::kOther, "curl_easy_init failed");
	CURL* const curl = handle.get();

	HeaderList headers;
	const auto append = [&headers](const std::string& line) {
		curl_slist* extended = curl_slist_append(headers.get(), line.c_str());
		if (extended == nullptr)
			throw std::bad_alloc();
		headers.release(); // curl_slist_append returned the same list, now one longer
		headers.reset(extended);
	};
	for (const auto& [name, value] : request.headers) {
		// "Name:" would make libcurl remove the header; "Name;" is its spelling for an empty value.
		append(value.empty() ? name + ";" : name + ": " + value);
	}
	// libcurl sends "Expect: 100-continue" for large POST bodies and waits up to a second for the interim
	// answer; the gateways do not need it.
	if (!HasHeader(request, "expect"))
		append("Expect:");

	Collected collected;
	char error_buffer[CURL_ERROR_SIZE] = {};

	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
	curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
	// Threads: no SIGALRM-based DNS timeouts, which are not thread-safe.
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ClampedMilliseconds(request.timeout));
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ClampedMilliseconds(request.connect_timeout));
	curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
	// A redirect from a payment API is never expected, and following one would re-send the Authorization
	// header's request somewhere else.
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500 // 7.85.0 added the string form and deprecated the bitmask
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "balatrix-sidecar");
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxBodyBytes));
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &collected);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &collected);

	if (request.method == "GET" && request.body.empty()) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	} else if (request.method == "HEAD") {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else {
		if (request.method != "POST")
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
		if (request.method == "POST" || !request.body.empty()) {
			// POSTFIELDS does not copy: request.body outlives curl_easy_perform. An empty POST body still sends
			// "Content-Length: 0".
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
		}
	}

	const CURLcode code = curl_easy_perform(curl);
	const auto elapsed =
		std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

	if (code != CURLE_OK) {
		HttpResponse response;
		if (collected.too_large || code == CURLE_FILESIZE_EXCEEDED) {
			response = Failure(TransportFailure::kOther, "response body larger than 8 MiB");
		} else if (collected.callback_failed) {
			response = Failure(TransportFailure::kOther, "out of memory while reading the response");
		} else {
			std::string error = curl_easy_strerror(code);
			if (error_buffer[0] != '\0')
				error += std::string(": ") + error_buffer;
			response = Failure(Classify(code, curl), Scrubbed(std::move(error), UserinfoSecrets(request.url)));
		}
		response.elapsed = elapsed;
		return response;
	}

	HttpResponse response;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
	response.headers = std::move(collected.headers);
	response.body = std::move(collected.body);
	response.elapsed = elapsed;
	return response;
}

} // namespace

std::string_view
TransportFailureName(TransportFailure failure)
{
	switch (failure) {
	case TransportFailure::kNone:
		return "none";
	case TransportFailure::kConnect:
		return "connect";
	case TransportFailure::kTimeout:
		return "timeout";
	case TransportFailure::kDropped:
		return "dropped";
	case TransportFailure::kOther:
		return "other";
	}
	return "other";
}

std::string
HttpResponse::Header(const std::string& lowercase_name) const
{
	for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
		if (it->first == lowercase_name)
			return it->second;
	}
	return "";
}

std::unique_ptr<HttpTransport>
MakeCurlTransport()
{
	return std::make_unique<CurlTransport>();
}

} // namespace balatrix::sidecar::clients
