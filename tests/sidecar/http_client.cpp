#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <stdexcept>

#include <curl/curl.h>

namespace balatrix::sidecar::testing {
namespace {

size_t
AppendBody(char* data, size_t size, size_t count, void* user)
{
	static_cast<std::string*>(user)->append(data, size * count);
	return size * count;
}

size_t
AppendHeader(char* data, size_t size, size_t count, void* user)
{
	const std::string line(data, size * count);
	const auto colon = line.find(':');
	if (colon != std::string::npos) {
		std::string name = line.substr(0, colon);
		std::transform(name.begin(), name.end(), name.begin(),
		               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
		std::string value = line.substr(colon + 1);
		const auto first = value.find_first_not_of(" \t");
		const auto last = value.find_last_not_of(" \t\r\n");
		value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
		(*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
	}
	return size * count;
}

class Socket {
public:
	Socket() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {}
	~Socket()
	{
		if (fd_ >= 0)
			::close(fd_);
	}
	Socket(const Socket&) = delete;
	Socket& operator=(const Socket&) = delete;

	int
	fd() const
	{
		return fd_;
	}

private:
	int fd_;
};

} // namespace

std::string
HttpResult::Header(const std::string& lowercase_name) const
{
	const auto it = headers.find(lowercase_name);
	return it == headers.end() ? std::string() : it->second;
}

HttpResult
Fetch(const std::string& method, const std::string& url, const std::vector<std::string>& headers,
      const std::optional<std::string>& body)
{
	std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
	if (!curl)
		throw std::runtime_error("curl_easy_init failed");

	std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(nullptr, &curl_slist_free_all);
	for (const auto& header : headers)
		header_list.reset(curl_slist_append(header_list.release(), header.c_str()));
	// curl sends "Expect: 100-continue" for large bodies and Pistache never answers it; suppress it.
	header_list.reset(curl_slist_append(header_list.release(), "Expect:"));

	HttpResult result;
	CURL* handle = curl.get();
	curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
	curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
	curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(handle, CURLOPT_HTTPHEADER, header_list.get());
	curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &AppendBody);
	curl_easy_setopt(handle, CURLOPT_WRITEDATA, &result.body);
	curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &AppendHeader);
	curl_easy_setopt(handle, CURLOPT_HEADERDATA, &result.headers);
	if (body) {
		curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body->data());
		curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
	}

	const CURLcode code = curl_easy_perform(handle);
	if (code != CURLE_OK)
		throw std::runtime_error(std::string("curl: ") + curl_easy_strerror(code) + " (" + method + " " + url + ")");
	curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &result.status);
	return result;
}

std::string
SendRaw(unsigned short port, const std::string& raw, int timeout_ms)
{
	const Socket socket;
	const int fd = socket.fd();
	if (fd < 0)
		throw std::runtime_error("socket failed");

	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_port = htons(port);
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
		throw std::runtime_error("connect failed");

	for (std::size_t sent = 0; sent < raw.size();) {
		const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
		if (n <= 0)
			break; // the server may close early (that is what some tests check)
		sent += static_cast<std::size_t>(n);
	}

	std::string received;
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
	for (;;) {
		const auto left =
			std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0)
			break;
		pollfd poll_fd{fd, POLLIN, 0};
		if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0)
			break;
		char buffer[4096];
		const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
		if (n <= 0)
			break;
		received.append(buffer, static_cast<std::size_t>(n));
	}
	return received;
}

namespace {

// True when `received` holds a whole response: its head and as many body bytes as Content-Length says.
bool
IsCompleteResponse(const std::string& received)
{
	const auto head_end = received.find("\r\n\r\n");
	if (head_end == std::string::npos)
		return false;
	std::string head = received.substr(0, head_end);
	std::transform(head.begin(), head.end(), head.begin(),
	               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	const auto field = head.find("\r\ncontent-length:");
	if (field == std::string::npos)
		return true;
	const std::size_t length = std::stoul(head.substr(field + 17));
	return received.size() >= head_end + 4 + length;
}

} // namespace

std::vector<std::string>
ExchangeOnOneConnection(unsigned short port, const std::vector<std::string>& requests, int timeout_ms)
{
	const Socket socket;
	const int fd = socket.fd();
	if (fd < 0)
		throw std::runtime_error("socket failed");
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_port = htons(port);
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
		throw std::runtime_error("connect failed");

	std::vector<std::string> responses;
	for (const auto& request : requests) {
		if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
			break;
		std::string received;
		const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
		while (!IsCompleteResponse(received)) {
			const auto left =
				std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
			pollfd poll_fd{fd, POLLIN, 0};
			if (left.count() <= 0 || ::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0)
				break;
			char buffer[4096];
			const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
			if (n <= 0)
				break;
			received.append(buffer, static_cast<std::size_t>(n));
		}
		const bool complete = IsCompleteResponse(received);
		responses.push_back(std::move(received));
		if (!complete)
			break;
	}
	return responses;
}

} // namespace balatrix::sidecar::testing
