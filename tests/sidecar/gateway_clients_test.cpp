// The payment-gateway clients (sidecar/src/clients): the libcurl transport against a raw socket server, the retry
// loop and FormEncode as pure units over a scripted transport, and RazorpayClient / StripeClient against the real
// fakes in tests/fakes (python3, started per test on a kernel-chosen port in a mkdtemp directory; skipped when
// python3 is missing). What each fake did is read back from its request log and its state, never from the client.
#include "clients/gateway.hpp"
#include "clients/http_transport.hpp"
#include "clients/razorpay_client.hpp"
#include "clients/stripe_client.hpp"
#include "fake_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "log.hpp"
#include "test_support.hpp"


namespace balatrix::sidecar::clients {

// Readable failure messages ("kUnavailable" rather than bytes). In this namespace, not the unnamed one, because
// GoogleTest finds PrintTo by argument-dependent lookup.
static void
PrintTo(GatewayOutcome outcome, std::ostream* out)
{
	*out << GatewayOutcomeName(outcome);
}

static void
PrintTo(TransportFailure failure, std::ostream* out)
{
	*out << TransportFailureName(failure);
}

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// ---- test doubles ---------------------------------------------------------------------------------------------

// Answers with the scripted responses in order (the last one repeats) and keeps every request it was given.
class ScriptedTransport final : public HttpTransport {
public:
	explicit ScriptedTransport(std::vector<HttpResponse> script) : script_(script.begin(), script.end()) {}

	HttpResponse
	Send(const HttpRequest& request) override
	{
		requests.push_back(request);
		HttpResponse response = script_.front();
		if (script_.size() > 1)
			script_.pop_front();
		return response;
	}

	std::vector<HttpRequest> requests;

private:
	std::deque<HttpResponse> script_;
};

HttpResponse
Status(long status, std::string body = "{}", std::vector<std::pair<std::string, std::string>> headers = {})
{
	HttpResponse response;
	response.status = status;
	response.body = std::move(body);
	response.headers = std::move(headers);
	return response;
}

HttpResponse
Failed(TransportFailure failure)
{
	HttpResponse response;
	response.failure = failure;
	response.error = "scripted failure";
	return response;
}

// Records every wait, in milliseconds, and sleeps for real only when asked to. The tests against the fakes do
// sleep: a retry sent the instant an answer arrives can reach the fake before it has released the idempotency key
// of the request it just answered, and get a 409 that no real client (waiting 250 ms) would see.
struct RecordingSleeper {
	std::vector<long> waits;
	bool really_sleep = false;

	Sleeper
	AsSleeper()
	{
		return [this](milliseconds wait) {
			waits.push_back(static_cast<long>(wait.count()));
			if (really_sleep)
				std::this_thread::sleep_for(wait);
		};
	}
};

std::string
HeaderOf(const HttpRequest& request, const std::string& name)
{
	for (const auto& [key, value] : request.headers) {
		if (key == name)
			return value;
	}
	return "";
}

// The statuses in a fake's request log, as JSON text (500, "dropped"), whatever the order they were logged in.
std::multiset<std::string>
Statuses(const json& requests)
{
	std::multiset<std::string> statuses;
	for (const auto& request : requests)
		statuses.insert(request["status"].dump());
	return statuses;
}


// A TCP port on 127.0.0.1 that is bound but not listening: a connection to it is refused at once, and nobody else
// can take the port while this object lives.
class RefusingPort {
public:
	RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
	{
		sockaddr_in address{};
		address.sin_family = AF_INET;
		address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t length = sizeof(address);
		if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
		    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
			throw std::runtime_error("cannot reserve a port");
		port_ = ntohs(address.sin_port);
	}
	~RefusingPort()
	{
		::close(fd_);
	}
	RefusingPort(const RefusingPort&) = delete;
	RefusingPort& operator=(const RefusingPort&) = delete;

	unsigned short
	port() const
	{
		return port_;
	}

private:
	int fd_;
	unsigned short port_ = 0;
};

// Accepts one connection on 127.0.0.1 (kernel-chosen port), reads the request head, writes `reply` (which may be
// empty: the connection is then closed without an answer), and waits up to `hold` for the client to hang up
// before closing. Writes use MSG_NOSIGNAL: a client that gives up mid-body must not kill the test with SIGPIPE.
class OneShotServer {
public:
	explicit OneShotServer(std::string reply, milliseconds hold = milliseconds(0))
		: reply_(std::move(reply)), hold_(hold), listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
	{
		sockaddr_in address{};
		address.sin_family = AF_INET;
		address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t length = sizeof(address);
		if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
		    ::listen(listener_, 1) != 0 ||
		    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
			throw std::runtime_error("cannot listen");
		port_ = ntohs(address.sin_port);
		thread_ = std::thread([this] { Serve(); });
	}

	~OneShotServer()
	{
		thread_.join();
		::close(listener_);
	}

	unsigned short
	port() const
	{
		return port_;
	}

	std::string
	Url(const std::string& path = "/") const
	{
		return "http://127.0.0.1:" + std::to_string(port_) + path;
	}

	// The request head as received (complete once the client's Send has returned).
	std::string
	received()
	{
		std::lock_guard lock(mutex_);
		return received_;
	}

private:
	void
	Serve()
	{
		pollfd waiting{listener_, POLLIN, 0};
		if (::poll(&waiting, 1, 5000) <= 0)
			return;
		const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
		if (connection < 0)
			return;
		std::string head;
		char buffer[4096];
		while (head.find("\r\n\r\n") == std::string::npos) {
			pollfd readable{connection, POLLIN, 0};
			if (::poll(&readable, 1, 5000) <= 0)
				break;
			const ssize_t n = ::recv(connection, buffer, sizeof(buffer), 0);
			if (n <= 0)
				break;
			head.append(buffer, static_cast<std::size_t>(n));
		}
		{
			std::lock_guard lock(mutex_);
			received_ = head;
		}
		std::size_t sent = 0;
		while (sent < reply_.size()) {
			const ssize_t n = ::send(connection, reply_.data() + sent, reply_.size() - sent, MSG_NOSIGNAL);
			if (n <= 0)
				break;
			sent += static_cast<std::size_t>(n);
		}
		if (hold_.count() > 0) {
			pollfd hangup{connection, POLLIN, 0};
			if (::poll(&hangup, 1, static_cast<int>(hold_.count())) > 0)
				(void) ::recv(connection, buffer, sizeof(buffer), 0);
		}
		::close(connection);
	}

	std::string reply_;
	milliseconds hold_;
	int listener_;
	unsigned short port_ = 0;
	std::thread thread_;
	std::mutex mutex_;
	std::string received_;
};

// One fake gateway process (tests/fakes/<script>) on a kernel-chosen port, its state in a fresh directory.
class FakeGateway {
public:
	explicit FakeGateway(const std::string& script) : process_(script, "--state-dir") {}

	FakeGateway(const FakeGateway&) = delete;
	FakeGateway& operator=(const FakeGateway&) = delete;

	std::string
	BaseUrl() const
	{
		return "http://127.0.0.1:" + std::to_string(process_.port());
	}

	json
	Control(const std::string& method, const std::string& path, const json& body = nullptr)
	{
		const auto result = testing::Fetch(method, BaseUrl() + path, {"Content-Type: application/json"},
		                                   body.is_null() ? std::nullopt : std::optional<std::string>(body.dump()));
		if (result.status != 200)
			throw std::runtime_error(method + " " + path + " -> " + std::to_string(result.status) + ": " + result.body);
		return json::parse(result.body);
	}

	// The API requests the fake received whose path starts with `prefix`, in arrival order. The fake writes an
	// entry after it has answered, so a test can hold the answer before the entry exists: wait until `at_least`
	// entries are there (at most 5 s), then 100 ms more, so that an unexpected extra request would show as well.
	json
	Requests(const std::string& prefix, std::size_t at_least = 0)
	{
		const auto read = [&] {
			return Control("GET", "/__control/requests?path_prefix=" + prefix)["items"];
		};
		const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
		json items = read();
		while (items.size() < at_least && std::chrono::steady_clock::now() < deadline) {
			std::this_thread::sleep_for(milliseconds(10));
			items = read();
		}
		if (at_least > 0) {
			std::this_thread::sleep_for(milliseconds(100));
			items = read();
		}
		std::stable_sort(items.begin(), items.end(), [](const json& a, const json& b) {
			return a["time"].get<double>() < b["time"].get<double>();
		});
		return items;
	}

	json
	State()
	{
		return Control("GET", "/__control/state");
	}

	void
	AddFault(const json& rule)
	{
		Control("POST", "/__control/faults", rule);
	}

private:
	sidecar::testing::FakeProcess process_;
};

// ---- FormEncode -----------------------------------------------------------------------------------------------

// Expected strings printed by stripe@23.1.0 (tests/fakes/node_modules): require('stripe/cjs/utils.js')
// .queryStringifyRequestData({...}) with the same names and values in the same order.
TEST(GatewayFormEncode, MatchesStripeNode)
{
	EXPECT_EQ(FormEncode({{"amount", "29935"}, {"currency", "inr"}, {"metadata[invoice_id]", "INV-2025-000123"}}),
	          "amount=29935&currency=inr&metadata[invoice_id]=INV-2025-000123");
	EXPECT_EQ(FormEncode({{"description", "Plan ₹299 — प्रीपेड"}, {"note", "a b&c=d+e/f?g#h%i"}}),
	          "description=Plan%20%E2%82%B9299%20%E2%80%94%20%E0%A4%AA%E0%A5%8D%E0%A4%B0%E0%A5%80%E0%A4%AA%E0%A5%87%E0%"
	          "A4%A1&note=a%20b%26c%3Dd%2Be%2Ff%3Fg%23h%25i");
	EXPECT_EQ(FormEncode({{"x", "it's (ok)! *~-._"}, {"metadata[a b]", "[v]"}}),
	          "x=it%27s%20%28ok%29%21%20%2A~-._&metadata[a%20b]=[v]");
	EXPECT_EQ(FormEncode({{"automatic_payment_methods[enabled]", "true"}, {"e", ""}}),
	          "automatic_payment_methods[enabled]=true&e=");
}

TEST(GatewayFormEncode, EmptyAndControlBytes)
{
	EXPECT_EQ(FormEncode({}), "");
	EXPECT_EQ(FormEncode({{"k", std::string("a\r\n\0b", 5)}}), "k=a%0D%0A%00b");
}

// ---- the retry loop over a scripted transport ---------------------------------------------------------------

class GatewayRetryLoop : public ::testing::Test {
protected:
	HttpRequest
	Request()
	{
		HttpRequest request;
		request.method = "POST";
		request.url = "http://gateway.test/v1/things";
		request.body = "a=1";
		return request;
	}

	RetryPolicy policy_; // 3 attempts, 250 ms doubling, at most 4000 ms
	RecordingSleeper sleeper_;
};

TEST_F(GatewayRetryLoop, BackoffDoublesFromFirstBackoffUpToTheCap)
{
	const HttpResponse plain = Status(500);
	EXPECT_EQ(RetryDelay(policy_, 1, plain).count(), 250);
	EXPECT_EQ(RetryDelay(policy_, 2, plain).count(), 500);
	EXPECT_EQ(RetryDelay(policy_, 3, plain).count(), 1000);
	EXPECT_EQ(RetryDelay(policy_, 5, plain).count(), 4000);
	EXPECT_EQ(RetryDelay(policy_, 6, plain).count(), 4000);
	EXPECT_EQ(RetryDelay(policy_, 1000, plain).count(), 4000);
}

TEST_F(GatewayRetryLoop, RetryAfterSecondsReplaceTheBackoffCappedAtMaxBackoff)
{
	EXPECT_EQ(RetryDelay(policy_, 1, Status(503, "{}", {{"retry-after", "2"}})).count(), 2000);
	EXPECT_EQ(RetryDelay(policy_, 3, Status(429, "{}", {{"retry-after", "0"}})).count(), 0);
	EXPECT_EQ(RetryDelay(policy_, 1, Status(429, "{}", {{"retry-after", "120"}})).count(), 4000);
	// Not whole seconds (an HTTP-date, a negative, a fraction): the computed backoff.
	EXPECT_EQ(RetryDelay(policy_, 2, Status(503, "{}", {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}})).count(),
	          500);
	EXPECT_EQ(RetryDelay(policy_, 1, Status(503, "{}", {{"retry-after", "-1"}})).count(), 250);
	EXPECT_EQ(RetryDelay(policy_, 1, Status(503, "{}", {{"retry-after", "1.5"}})).count(), 250);
}

TEST_F(GatewayRetryLoop, HonoursRetryAfterBetweenAttempts)
{
	ScriptedTransport transport({Status(503, "{}", {{"retry-after", "2"}}), Status(200, R"({"id":"x"})")});
	const auto exchange = SendWithRetries(transport, Request(), Replay::kSafe, policy_, sleeper_.AsSleeper(), nullptr);
	EXPECT_EQ(exchange.attempts, 2);
	EXPECT_EQ(exchange.response.status, 200);
	EXPECT_EQ(sleeper_.waits, std::vector<long>{2000});
}

TEST_F(GatewayRetryLoop, RetriesUnknownOutcomesAndSendsTheSameRequestEachTime)
{
	for (const auto& first : {Status(500), Status(502), Status(409), Status(429), Failed(TransportFailure::kConnect),
	                          Failed(TransportFailure::kTimeout), Failed(TransportFailure::kDropped)}) {
		ScriptedTransport transport({first, Status(200, "{}")});
		RecordingSleeper sleeper;
		HttpRequest request = Request();
		request.headers = {{"Idempotency-Key", "key-1"}};
		const auto exchange = SendWithRetries(transport, request, Replay::kSafe, policy_, sleeper.AsSleeper(), nullptr);
		EXPECT_EQ(exchange.attempts, 2) << first.status << " " << TransportFailureName(first.failure);
		ASSERT_EQ(transport.requests.size(), 2u);
		EXPECT_EQ(transport.requests[1].body, "a=1");
		EXPECT_EQ(HeaderOf(transport.requests[1], "Idempotency-Key"), "key-1");
		EXPECT_EQ(sleeper.waits, std::vector<long>{250});
	}
}

TEST_F(GatewayRetryLoop, DoesNotRetryAnswersThatWouldNotChange)
{
	for (const auto& only :
	     {Status(400), Status(401), Status(402), Status(404), Status(200), Failed(TransportFailure::kOther)}) {
		ScriptedTransport transport({only, Status(200, "{}")});
		RecordingSleeper sleeper;
		const auto exchange =
			SendWithRetries(transport, Request(), Replay::kSafe, policy_, sleeper.AsSleeper(), nullptr);
		EXPECT_EQ(exchange.attempts, 1) << only.status << " " << TransportFailureName(only.failure);
		EXPECT_EQ(transport.requests.size(), 1u);
		EXPECT_TRUE(sleeper.waits.empty());
	}
}

TEST_F(GatewayRetryLoop, StopsAfterMaxAttemptsWithoutSleepingAfterTheLast)
{
	ScriptedTransport transport({Status(500)});
	const auto exchange = SendWithRetries(transport, Request(), Replay::kSafe, policy_, sleeper_.AsSleeper(), nullptr);
	EXPECT_EQ(exchange.attempts, 3);
	EXPECT_EQ(transport.requests.size(), 3u);
	EXPECT_EQ(sleeper_.waits, (std::vector<long>{250, 500}));
	EXPECT_EQ(ReadExchange(exchange).outcome, GatewayOutcome::kUnavailable);
}

TEST_F(GatewayRetryLoop, UnsafeRequestsAreSentOnce)
{
	ScriptedTransport transport({Status(503), Status(200, "{}")});
	const auto exchange =
		SendWithRetries(transport, Request(), Replay::kUnsafe, policy_, sleeper_.AsSleeper(), nullptr);
	EXPECT_EQ(exchange.attempts, 1);
	EXPECT_EQ(transport.requests.size(), 1u);
}

TEST_F(GatewayRetryLoop, ReadExchangeClassifiesTheLastResponse)
{
	const auto read = [](HttpResponse response) {
		return ReadExchange({std::move(response), 1});
	};
	EXPECT_EQ(read(Status(200, R"({"id":"a"})")).outcome, GatewayOutcome::kOk);
	EXPECT_EQ(read(Status(200, R"({"id":"a"})")).body["id"], "a");
	// A 2xx we cannot read: the gateway did something we do not know.
	const auto unreadable = read(Status(200, "<html>"));
	EXPECT_EQ(unreadable.outcome, GatewayOutcome::kUnavailable);
	EXPECT_EQ(unreadable.error_code, "invalid_response");
	EXPECT_EQ(read(Status(400)).outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(read(Status(404)).outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(read(Status(409)).outcome, GatewayOutcome::kUnavailable);
	EXPECT_EQ(read(Status(429)).outcome, GatewayOutcome::kUnavailable);
	EXPECT_EQ(read(Status(503, "not json")).outcome, GatewayOutcome::kUnavailable);
	EXPECT_TRUE(read(Status(503, "not json")).body.is_null());
	const auto dropped = read(Failed(TransportFailure::kDropped));
	EXPECT_EQ(dropped.outcome, GatewayOutcome::kUnavailable);
	EXPECT_EQ(dropped.error_code, "transport_dropped");
	EXPECT_EQ(dropped.http_status, 0);
}

TEST_F(GatewayRetryLoop, LogsEachAttemptWithoutSecrets)
{
	auto sink = std::make_shared<testing::CaptureSink>();
	auto logger = MakeJsonLogger("gateway", LogLevel::kDebug, sink);
	ScriptedTransport transport({Status(500), Status(200, R"({"id":"pi_1"})")});
	StripeOptions options;
	options.base_url = "http://user:url-password@gateway.test/";
	options.secret_key = "sk_test_DoNotLogMe";
	options.logger = logger;
	StripeClient client(transport, options, sleeper_.AsSleeper());
	PaymentIntentParams params;
	params.amount_paise = 10000;
	params.currency = "INR";
	params.idempotency_key = "pi-create-1";
	params.description = "description text";
	ASSERT_EQ(client.CreatePaymentIntent(params).outcome, GatewayOutcome::kOk);

	const auto events = sink->Events("gateway_attempt");
	ASSERT_EQ(events.size(), 2u);
	EXPECT_EQ(events[0]["method"], "POST");
	EXPECT_EQ(events[0]["path"], "/v1/payment_intents");
	EXPECT_EQ(events[0]["status"], 500);
	EXPECT_EQ(events[0]["attempt"], 1);
	EXPECT_EQ(events[1]["status"], 200);
	EXPECT_EQ(events[1]["attempt"], 2);
	for (const auto& line : sink->Lines()) {
		EXPECT_EQ(line.find("sk_test_DoNotLogMe"), std::string::npos) << line;
		EXPECT_EQ(line.find("url-password"), std::string::npos) << line;
		EXPECT_EQ(line.find("description text"), std::string::npos) << line;
	}
}

// ---- client behaviour over a scripted transport -----------------------------------------------------------------

TEST(GatewayClientsScripted, RazorpayDeclineIsToldFromRejection)
{
	const std::string declined =
		R"({"error":{"code":"BAD_REQUEST_ERROR","description":"Payment failed","source":"bank","step":"payment_authorization","reason":"payment_failed","metadata":{},"field":null}})";
	const std::string rejected =
		R"({"error":{"code":"BAD_REQUEST_ERROR","description":"The id provided does not exist","source":"business","step":"payment_initiation","reason":"input_validation_failed","metadata":{},"field":null}})";
	RecordingSleeper sleeper;
	{
		ScriptedTransport transport({Status(400, declined)});
		RazorpayClient client(transport, {}, sleeper.AsSleeper());
		const auto result = client.FetchPayment("pay_1");
		EXPECT_EQ(result.outcome, GatewayOutcome::kDeclined);
		EXPECT_EQ(result.error_code, "BAD_REQUEST_ERROR");
		EXPECT_EQ(result.error_message, "Payment failed");
	}
	{
		ScriptedTransport transport({Status(400, rejected)});
		RazorpayClient client(transport, {}, sleeper.AsSleeper());
		const auto result = client.FetchPayment("pay_1");
		EXPECT_EQ(result.outcome, GatewayOutcome::kRejected);
		EXPECT_EQ(result.error_message, "The id provided does not exist");
	}
}

TEST(GatewayClientsScripted, RazorpayCaptureAlreadyCapturedWithAnotherAmountStaysRejected)
{
	const std::string already =
		R"({"error":{"code":"BAD_REQUEST_ERROR","description":"This payment has already been captured","source":"business","step":"payment_capture","reason":"NA","metadata":{},"field":null}})";
	const std::string payment =
		R"({"id":"pay_1","entity":"payment","amount":50000,"currency":"INR","status":"captured","captured":true})";
	RecordingSleeper sleeper;
	ScriptedTransport transport({Status(400, already), Status(200, payment)});
	RazorpayClient client(transport, {}, sleeper.AsSleeper());
	const auto result = client.Capture("pay_1", 40000, "INR");
	EXPECT_EQ(result.outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(result.http_status, 400);
	EXPECT_EQ(result.attempts, 2);
	ASSERT_EQ(transport.requests.size(), 2u);
	EXPECT_EQ(transport.requests[1].method, "GET");
	EXPECT_EQ(transport.requests[1].url, "https://api.razorpay.com/v1/payments/pay_1");
}

TEST(GatewayClientsScripted, StripeErrorCodeFallsBackToTheType)
{
	RecordingSleeper sleeper;
	ScriptedTransport transport({Status(
		400,
		R"({"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}})")});
	StripeClient client(transport, {}, sleeper.AsSleeper());
	const auto result = client.ConfirmPaymentIntent("pi_1", "pm_card_visa", "confirm-1");
	EXPECT_EQ(result.outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(result.error_code, "idempotency_error"); // no code: the type
	EXPECT_EQ(transport.requests.size(), 1u);
}

TEST(GatewayClientsScripted, LocalRejectionsSendNothing)
{
	ScriptedTransport transport({Status(200, "{}")});
	RecordingSleeper sleeper;
	RazorpayClient razorpay(transport, {}, sleeper.AsSleeper());
	StripeClient stripe(transport, {}, sleeper.AsSleeper());
	PaymentIntentParams good;
	good.amount_paise = 10000;
	good.currency = "inr";
	good.idempotency_key = "pi-1";
	const auto with = [&](auto change) {
		PaymentIntentParams params = good;
		change(params);
		return stripe.CreatePaymentIntent(params);
	};
	const std::vector<std::pair<std::string, GatewayResult>> refused = {
		{"order amount 0", razorpay.CreateOrder(0, "INR", "r-1")},
		{"order amount negative", razorpay.CreateOrder(-100, "INR", "r-1")},
		{"order currency lower case", razorpay.CreateOrder(100, "inr", "r-1")},
		{"order without receipt", razorpay.CreateOrder(100, "INR", "")},
		{"order receipt 41 bytes", razorpay.CreateOrder(100, "INR", std::string(41, 'r'))},
		{"order receipt not UTF-8", razorpay.CreateOrder(100, "INR", "r\xff")},
		{"order notes an array", razorpay.CreateOrder(100, "INR", "r-1", json::array({1}))},
		{"order notes not UTF-8", razorpay.CreateOrder(100, "INR", "r-1", json{{"k", "\xc3\x28"}})},
		{"refund key 9 chars", razorpay.Refund("pay_1", std::nullopt, "123456789")},
		{"refund key with a space", razorpay.Refund("pay_1", std::nullopt, "refund key 1")},
		{"refund key with a newline", razorpay.Refund("pay_1", std::nullopt, "refund-key-1\r\nX-Evil: 1")},
		{"refund amount 0", razorpay.Refund("pay_1", 0, "refund-key-1")},
		{"capture currency", razorpay.Capture("pay_1", 100, "RUPEES")},
		{"pi amount 0", with([](auto& p) { p.amount_paise = 0; })},
		{"pi currency", with([](auto& p) { p.currency = "rupee"; })},
		{"pi no idempotency key", with([](auto& p) { p.idempotency_key = ""; })},
		{"pi key with a space", with([](auto& p) { p.idempotency_key = "a b"; })},
		{"pi key 256 chars", with([](auto& p) { p.idempotency_key = std::string(256, 'k'); })},
		{"pi metadata key with brackets", with([](auto& p) {
			 p.metadata = {{"a][b", "x"}};
		 })},
		{"pi metadata key 41 chars", with([](auto& p) {
			 p.metadata = {{std::string(41, 'k'), "x"}};
		 })},
		{"pi metadata value 501 chars", with([](auto& p) {
			 p.metadata = {{"k", std::string(501, 'v')}};
		 })},
		{"pi metadata repeated key", with([](auto& p) {
			 p.metadata = {{"k", "1"}, {"k", "2"}};
		 })},
		{"pi metadata 51 keys", with([](auto& p) {
			 for (int i = 0; i < 51; ++i)
				 p.metadata.emplace_back("k" + std::to_string(i), "v");
		 })},
		{"pi description not UTF-8", with([](auto& p) { p.description = "\xe2\x82"; })},
		{"pi payment method with a slash", with([](auto& p) { p.payment_method = "pm_1/x"; })},
		{"refund reason", stripe.CreateRefund("pi_1", std::nullopt, "because", {}, "refund-1")},
		{"refund amount negative", stripe.CreateRefund("pi_1", -5, "", {}, "refund-1")},
	};
	for (const auto& [what, result] : refused) {
		EXPECT_EQ(result.outcome, GatewayOutcome::kRejected) << what;
		EXPECT_EQ(result.attempts, 0) << what;
		EXPECT_EQ(result.http_status, 0) << what;
		EXPECT_EQ(result.error_code, "invalid_argument") << what;
	}
	EXPECT_TRUE(transport.requests.empty());

	// The limits themselves are accepted: 40-byte receipt, 50 metadata keys, 500 characters of Devanagari.
	EXPECT_EQ(razorpay.CreateOrder(100, "INR", std::string(40, 'r')).outcome, GatewayOutcome::kOk);
	EXPECT_EQ(with([](auto& p) {
				  for (int i = 0; i < 50; ++i)
					  p.metadata.emplace_back(std::string(38, 'k') + std::to_string(i % 10) + std::to_string(i / 10),
			                                  "v");
			  }).outcome,
	          GatewayOutcome::kOk);
	std::string devanagari;
	for (int i = 0; i < 500; ++i)
		devanagari += "प"; // 3 bytes each: 1500 bytes, 500 characters
	EXPECT_EQ(with([&](auto& p) { p.metadata = {{"note", devanagari}}; }).outcome, GatewayOutcome::kOk);
	EXPECT_EQ(transport.requests.size(), 3u);
}

TEST(GatewayClientsScripted, IdsThatCouldChangeThePathAreRefused)
{
	ScriptedTransport transport({Status(200, "{}")});
	RecordingSleeper sleeper;
	RazorpayClient razorpay(transport, {}, sleeper.AsSleeper());
	StripeClient stripe(transport, {}, sleeper.AsSleeper());
	for (const std::string& id :
	     std::vector<std::string>{"", "../orders", "pay_1/refund", "pay_1?x=1", "pay_1#x", "pay%2F1", "pay.1", "pay 1",
	                              "pay_1\n", std::string(65, 'a')}) {
		EXPECT_EQ(razorpay.FetchPayment(id).attempts, 0) << id;
		EXPECT_EQ(razorpay.FetchOrder(id).outcome, GatewayOutcome::kRejected) << id;
		EXPECT_EQ(razorpay.FetchOrderPayments(id).outcome, GatewayOutcome::kRejected) << id;
		EXPECT_EQ(razorpay.Capture(id, 100, "INR").outcome, GatewayOutcome::kRejected) << id;
		EXPECT_EQ(razorpay.Refund(id, std::nullopt, "refund-key-1").outcome, GatewayOutcome::kRejected) << id;
		EXPECT_EQ(stripe.RetrievePaymentIntent(id).outcome, GatewayOutcome::kRejected) << id;
		EXPECT_EQ(stripe.ConfirmPaymentIntent(id, "pm_card_visa", "confirm-1").outcome, GatewayOutcome::kRejected)
			<< id;
		EXPECT_EQ(stripe.CreateRefund(id, std::nullopt, "", {}, "refund-1").outcome, GatewayOutcome::kRejected) << id;
	}
	EXPECT_TRUE(transport.requests.empty());
	// 64 characters is the longest id accepted.
	EXPECT_EQ(razorpay.FetchPayment(std::string(64, 'a')).outcome, GatewayOutcome::kOk);
	ASSERT_EQ(transport.requests.size(), 1u);
	EXPECT_EQ(transport.requests[0].url, "https://api.razorpay.com/v1/payments/" + std::string(64, 'a'));
}

// ---- the libcurl transport ---------------------------------------------------------------------------------------

TEST(GatewayCurlTransport, ReadsStatusHeadersAndBody)
{
	OneShotServer server("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Twice: first\r\n"
	                     "x-twice: second\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}");
	const auto transport = MakeCurlTransport();
	HttpRequest request;
	request.method = "POST";
	request.url = server.Url("/v1/things");
	request.headers = {{"Content-Type", "application/json"}, {"X-Empty", ""}};
	request.body = R"({"a":1})";
	const auto response = transport->Send(request);
	ASSERT_EQ(response.failure, TransportFailure::kNone) << response.error;
	EXPECT_EQ(response.status, 201);
	EXPECT_EQ(response.body, "{\"ok\":true}");
	EXPECT_EQ(response.Header("content-type"), "application/json");
	EXPECT_EQ(response.Header("x-twice"), "second"); // the last value
	EXPECT_EQ(response.Header("absent"), "");
	const std::string head = server.received();
	EXPECT_EQ(head.rfind("POST /v1/things HTTP/1.1\r\n", 0), 0u) << head;
	EXPECT_NE(head.find("\r\nContent-Length: 7\r\n"), std::string::npos) << head;
	EXPECT_NE(head.find("\r\nX-Empty:\r\n"), std::string::npos) << head;
	EXPECT_EQ(head.find("Expect:"), std::string::npos) << head;
}

TEST(GatewayCurlTransport, ABodyOverEightMebibytesIsRefused)
{
	const std::size_t size = 8 * 1024 * 1024 + 1;
	// Chunked, so the refusal comes from counting the bytes, not from an announced Content-Length.
	std::ostringstream chunked;
	chunked << "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
			<< std::hex << size << "\r\n"
			<< std::string(size, 'x') << "\r\n0\r\n\r\n";
	OneShotServer server(chunked.str());
	const auto response = MakeCurlTransport()->Send({"GET", server.Url(), {}, "", milliseconds(10000)});
	EXPECT_EQ(response.failure, TransportFailure::kOther);
	EXPECT_EQ(response.status, 0);
	EXPECT_NE(response.error.find("8 MiB"), std::string::npos) << response.error;

	// Exactly 8 MiB is fine.
	const std::string exact(8 * 1024 * 1024, 'y');
	OneShotServer exact_server("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(exact.size()) +
	                           "\r\nConnection: close\r\n\r\n" + exact);
	const auto fits = MakeCurlTransport()->Send({"GET", exact_server.Url(), {}, "", milliseconds(10000)});
	ASSERT_EQ(fits.failure, TransportFailure::kNone) << fits.error;
	EXPECT_EQ(fits.body.size(), exact.size());
}

TEST(GatewayCurlTransport, AnnouncedOversizedBodyIsRefused)
{
	OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 9000000\r\nConnection: close\r\n\r\nxx");
	const auto response = MakeCurlTransport()->Send({"GET", server.Url(), {}, "", milliseconds(5000)});
	EXPECT_EQ(response.failure, TransportFailure::kOther);
	EXPECT_NE(response.error.find("8 MiB"), std::string::npos) << response.error;
}

TEST(GatewayCurlTransport, ConnectionClosedWithoutAnswerIsDropped)
{
	OneShotServer server("");
	const auto response = MakeCurlTransport()->Send({"POST", server.Url(), {}, "x=1", milliseconds(5000)});
	EXPECT_EQ(response.failure, TransportFailure::kDropped) << response.error;
	EXPECT_EQ(response.status, 0);
}

TEST(GatewayCurlTransport, TruncatedBodyIsDropped)
{
	OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"partial\":");
	const auto response = MakeCurlTransport()->Send({"GET", server.Url(), {}, "", milliseconds(5000)});
	EXPECT_EQ(response.failure, TransportFailure::kDropped) << response.error;
	EXPECT_EQ(response.status, 0);
	EXPECT_TRUE(response.body.empty());
}

TEST(GatewayCurlTransport, NoAnswerInTimeIsATimeout)
{
	OneShotServer server("", milliseconds(5000)); // reads the request, then waits for the client to give up
	const auto started = std::chrono::steady_clock::now();
	const auto response = MakeCurlTransport()->Send({"GET", server.Url(), {}, "", milliseconds(300)});
	const auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started).count();
	EXPECT_EQ(response.failure, TransportFailure::kTimeout) << response.error;
	// libcurl's timer runs in whole milliseconds from its own start: allow it to fire a little early.
	EXPECT_GE(took, 250);
	EXPECT_LT(took, 3000);
	EXPECT_GE(response.elapsed.count(), 250);
}

TEST(GatewayCurlTransport, RefusedConnectionIsConnectAndHidesUserinfo)
{
	RefusingPort closed;
	const auto response = MakeCurlTransport()->Send(
		{"GET", "http://billing:hunter2secret@127.0.0.1:" + std::to_string(closed.port()) + "/v1/x", {}, ""});
	EXPECT_EQ(response.failure, TransportFailure::kConnect) << response.error;
	EXPECT_FALSE(response.error.empty());
	EXPECT_EQ(response.error.find("hunter2secret"), std::string::npos) << response.error;
	EXPECT_EQ(response.error.find("billing:"), std::string::npos) << response.error;
}

TEST(GatewayCurlTransport, RefusesWhatWouldForgeARequest)
{
	const auto transport = MakeCurlTransport();
	RefusingPort closed; // nothing should even try to connect; if it did, it would be refused, not kOther
	const std::string url = "http://127.0.0.1:" + std::to_string(closed.port()) + "/";
	for (const auto& request : std::vector<HttpRequest>{
			 {"GET", url, {{"X-Key", "a\r\nX-Injected: 1"}}, ""},
			 {"GET", url, {{"Bad Name", "v"}}, ""},
			 {"GET", url, {{"", "v"}}, ""},
			 {"GET / HTTP/1.1\r\nX:", url, {}, ""},
			 {"get", url, {}, ""},
			 {"GET", "ftp://127.0.0.1/file", {}, ""},
			 {"GET", "file:///etc/passwd", {}, ""},
		 }) {
		const auto response = transport->Send(request);
		EXPECT_EQ(response.failure, TransportFailure::kOther) << request.method << " " << request.url;
	}
}

// ---- Razorpay against fake_razorpay.py --------------------------------------------------------------------------

class RazorpayAgainstFake : public ::testing::Test {
protected:
	void
	SetUp() override
	{
		if (!sidecar::testing::HavePython3())
			GTEST_SKIP() << "python3 is not on PATH";
		fake_ = std::make_unique<FakeGateway>("fake_razorpay.py");
		transport_ = MakeCurlTransport();
		sleeper_.really_sleep = true;
	}

	RazorpayOptions
	Options()
	{
		RazorpayOptions options;
		options.base_url = fake_->BaseUrl() + "/"; // a trailing slash must not double
		options.key_id = "rzp_test_FakeKeyId000001";
		options.key_secret = "rzp_test_secret_NOT_REAL";
		options.timeout = milliseconds(5000);
		return options;
	}

	RazorpayClient
	Client()
	{
		return RazorpayClient(*transport_, Options(), sleeper_.AsSleeper());
	}

	// An order of `amount` paise and a payment for it, left `status` ("authorized" or "captured").
	std::string
	PaidPayment(std::int64_t amount, const std::string& status, const std::string& receipt)
	{
		auto client = Client();
		const auto order = client.CreateOrder(amount, "INR", receipt);
		if (order.outcome != GatewayOutcome::kOk)
			throw std::runtime_error("order: " + order.error_message);
		const auto paid = fake_->Control("POST", "/__control/orders/" + order.body["id"].get<std::string>() + "/pay",
		                                 {{"status", status}});
		return paid["razorpay_payment_id"];
	}

	std::unique_ptr<FakeGateway> fake_;
	std::unique_ptr<HttpTransport> transport_;
	RecordingSleeper sleeper_;
};

TEST_F(RazorpayAgainstFake, CreateOrderSendsIntegerPaiseAndTheReceipt)
{
	auto client = Client();
	const auto result = client.CreateOrder(29935, "INR", "INV-2025-000123", {{"invoice_id", "42"}});
	ASSERT_EQ(result.outcome, GatewayOutcome::kOk) << result.error_message;
	EXPECT_EQ(result.http_status, 200);
	EXPECT_EQ(result.attempts, 1);
	EXPECT_EQ(result.body["amount"], 29935);
	EXPECT_EQ(result.body["status"], "created");

	const auto requests = fake_->Requests("/v1/orders", 1);
	ASSERT_EQ(requests.size(), 1u);
	EXPECT_EQ(requests[0]["method"], "POST");
	EXPECT_EQ(requests[0]["path"], "/v1/orders"); // no doubled slash from the configured base URL
	// base64("rzp_test_FakeKeyId000001:rzp_test_secret_NOT_REAL"), from coreutils base64
	EXPECT_EQ(requests[0]["headers"]["authorization"],
	          "Basic cnpwX3Rlc3RfRmFrZUtleUlkMDAwMDAxOnJ6cF90ZXN0X3NlY3JldF9OT1RfUkVBTA==");
	EXPECT_EQ(requests[0]["headers"]["content-type"], "application/json");
	const auto sent = json::parse(requests[0]["body"].get<std::string>());
	ASSERT_TRUE(sent["amount"].is_number_integer()) << sent.dump();
	EXPECT_EQ(sent["amount"], 29935);
	EXPECT_EQ(sent["currency"], "INR");
	EXPECT_EQ(sent["receipt"], "INV-2025-000123");
	EXPECT_EQ(sent["unique_receipt"], true);
	EXPECT_EQ(sent["payment_capture"], 1);
	EXPECT_EQ(sent["notes"], (json{{"invoice_id", "42"}}));

	const auto orders = fake_->State()["orders"];
	ASSERT_EQ(orders.size(), 1u);
	EXPECT_EQ(orders.begin().value()["receipt"], "INV-2025-000123");
	EXPECT_EQ(orders.begin().value()["amount"], 29935);
}

TEST_F(RazorpayAgainstFake, ServerErrorThenSuccessMakesOneOrder)
{
	fake_->AddFault({{"mode", "status"}, {"status", 500}, {"path_prefix", "/v1/orders"}, {"count", 1}});
	auto client = Client();
	const auto result = client.CreateOrder(50000, "INR", "INV-500-THEN-200");
	ASSERT_EQ(result.outcome, GatewayOutcome::kOk) << result.error_message;
	EXPECT_EQ(result.attempts, 2);
	EXPECT_EQ(sleeper_.waits, std::vector<long>{250});
	EXPECT_EQ(fake_->State()["orders"].size(), 1u);
	const auto requests = fake_->Requests("/v1/orders", 2);
	ASSERT_EQ(requests.size(), 2u);
	EXPECT_EQ(Statuses(requests), (std::multiset<std::string>{"200", "500"}));
	EXPECT_EQ(requests[0]["body"], requests[1]["body"]);
}

TEST_F(RazorpayAgainstFake, AnOrderCreatedButNotHeardOfIsNotCreatedTwice)
{
	// The first attempt makes the order, then the fake answers 500: unique_receipt makes the retry return it.
	fake_->AddFault(
		{{"mode", "status"}, {"status", 500}, {"path_prefix", "/v1/orders"}, {"count", 1}, {"phase", "after"}});
	auto client = Client();
	const auto result = client.CreateOrder(50000, "INR", "INV-LOST-ANSWER");
	ASSERT_EQ(result.outcome, GatewayOutcome::kOk) << result.error_message;
	EXPECT_EQ(result.attempts, 2);
	const auto orders = fake_->State()["orders"];
	ASSERT_EQ(orders.size(), 1u);
	EXPECT_EQ(result.body["id"], orders.begin().key());
}

TEST_F(RazorpayAgainstFake, ThreeServerErrorsAreUnavailable)
{
	fake_->AddFault({{"mode", "status"}, {"status", 500}, {"path_prefix", "/v1/orders"}, {"count", 3}});
	auto client = Client();
	const auto result = client.CreateOrder(50000, "INR", "INV-ALWAYS-500");
	EXPECT_EQ(result.outcome, GatewayOutcome::kUnavailable);
	EXPECT_EQ(result.attempts, 3);
	EXPECT_EQ(result.http_status, 500);
	EXPECT_EQ(result.error_code, "SERVER_ERROR");
	EXPECT_EQ(sleeper_.waits, (std::vector<long>{250, 500}));
	EXPECT_EQ(fake_->Requests("/v1/orders", 3).size(), 3u);
	EXPECT_TRUE(fake_->State()["orders"].empty());
}

TEST_F(RazorpayAgainstFake, DroppedConnectionIsRetried)
{
	fake_->AddFault({{"mode", "drop"}, {"path_prefix", "/v1/orders"}, {"count", 1}});
	auto client = Client();
	const auto result = client.CreateOrder(50000, "INR", "INV-DROPPED");
	ASSERT_EQ(result.outcome, GatewayOutcome::kOk) << result.error_message;
	EXPECT_EQ(result.attempts, 2);
	const auto requests = fake_->Requests("/v1/orders", 2);
	ASSERT_EQ(requests.size(), 2u);
	EXPECT_EQ(Statuses(requests), (std::multiset<std::string>{"200", "\"dropped\""}));
	EXPECT_EQ(fake_->State()["orders"].size(), 1u);
}

TEST_F(RazorpayAgainstFake, RefundWhoseAnswerTimedOutExistsOnce)
{
	const std::string payment = PaidPayment(50000, "captured", "INV-REFUND-TIMEOUT");
	// The refund happens, then the fake sits on the answer longer than the client waits.
	fake_->AddFault({{"mode", "delay"},
	                 {"phase", "after"},
	                 {"delay_ms", 2000},
	                 {"method", "POST"},
	                 {"path_prefix", "/v1/payments/"},
	                 {"count", 1}});
	auto options = Options();
	options.timeout = milliseconds(1000);
	// The retry must come after the delayed handler has finished; before that the fake would answer 409
	// (key in flight), which the loop would also wait out.
	options.retry.first_backoff = milliseconds(2500);
	options.retry.max_attempts = 4;
	RazorpayClient client(*transport_, options, sleeper_.AsSleeper());
	const auto result = client.Refund(payment, 20000, "refund-INV-REFUND-TIMEOUT-1", {{"reason", "test"}});
	ASSERT_EQ(result.outcome, GatewayOutcome::kOk) << result.error_code << " " << result.error_message;
	EXPECT_GE(result.attempts, 2);
	EXPECT_EQ(result.body["amount"], 20000);

	const auto refunds = fake_->State()["refunds"];
	ASSERT_EQ(refunds.size(), 1u);
	EXPECT_EQ(result.body["id"], refunds.begin().key());
	const auto requests = fake_->Requests("/v1/payments/" + payment + "/refund", 2);
	ASSERT_EQ(requests.size(), static_cast<std::size_t>(result.attempts));
	for (const auto& request : requests) {
		EXPECT_EQ(request["headers"]["x-refund-idempotency"], "refund-INV-REFUND-TIMEOUT-1");
		EXPECT_EQ(request["body"], requests[0]["body"]);
	}
	EXPECT_EQ(requests[0]["fault"]["mode"], "delay"); // the client gave up on the first, which took effect
	EXPECT_EQ(requests.back()["replayed"], true);
	const auto sent = json::parse(requests[0]["body"].get<std::string>());
	EXPECT_EQ(sent, (json{{"amount", 20000}, {"speed", "normal"}, {"notes", {{"reason", "test"}}}}));
	EXPECT_EQ(fake_->State()["payments"][payment]["amount_refunded"], 20000);
}

TEST_F(RazorpayAgainstFake, ValidationErrorIsRejectedWithoutRetry)
{
	auto client = Client();
	const auto result = client.CreateOrder(50, "INR", "INV-TOO-SMALL"); // the minimum is INR 1.00
	EXPECT_EQ(result.outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(result.http_status, 400);
	EXPECT_EQ(result.attempts, 1);
	EXPECT_EQ(result.error_code, "BAD_REQUEST_ERROR");
	EXPECT_EQ(result.error_message, "The amount must be at least INR 1.00");
	EXPECT_EQ(fake_->Requests("/v1/", 1).size(), 1u);
	EXPECT_TRUE(sleeper_.waits.empty());
}

TEST_F(RazorpayAgainstFake, WrongKeyIsRejected401)
{
	auto options = Options();
	options.key_secret = "not-the-secret";
	RazorpayClient client(*transport_, options, sleeper_.AsSleeper());
	const auto result = client.CreateOrder(50000, "INR", "INV-BAD-KEY");
	EXPECT_EQ(result.outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(result.http_status, 401);
	EXPECT_EQ(result.attempts, 1);
	EXPECT_EQ(result.error_message, "The api key provided is invalid");
	EXPECT_TRUE(fake_->State()["orders"].empty());
}

TEST_F(RazorpayAgainstFake, UnknownIdIsRejected)
{
	auto client = Client();
	const auto result = client.FetchPayment("pay_DoesNotExist01");
	EXPECT_EQ(result.outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(result.http_status, 400);
	EXPECT_EQ(result.error_message, "The id provided does not exist");
}

TEST_F(RazorpayAgainstFake, CaptureTwiceIsOkBothTimes)
{
	const std::string payment = PaidPayment(50000, "authorized", "INV-CAPTURE-TWICE");
	auto client = Client();
	const auto first = client.Capture(payment, 50000, "INR");
	ASSERT_EQ(first.outcome, GatewayOutcome::kOk) << first.error_message;
	EXPECT_EQ(first.attempts, 1);
	EXPECT_EQ(first.body["status"], "captured");

	const auto second = client.Capture(payment, 50000, "INR");
	ASSERT_EQ(second.outcome, GatewayOutcome::kOk) << second.error_message;
	EXPECT_EQ(second.attempts, 2); // the capture (400 already captured) and the fetch
	EXPECT_EQ(second.body["id"], payment);
	EXPECT_EQ(second.body["captured"], true);

	const auto captures = fake_->Requests("/v1/payments/" + payment + "/capture", 2);
	ASSERT_EQ(captures.size(), 2u);
	EXPECT_EQ(Statuses(captures), (std::multiset<std::string>{"200", "400"}));
	for (const auto& capture : captures)
		EXPECT_EQ(json::parse(capture["body"].get<std::string>()), (json{{"amount", 50000}, {"currency", "INR"}}));
	const auto& state = fake_->State();
	EXPECT_EQ(state["payments"][payment]["status"], "captured");
	EXPECT_EQ(state["orders"].begin().value()["status"], "paid");

	// Another amount on the captured payment is not this capture: the 400 stands.
	const auto other = client.Capture(payment, 40000, "INR");
	EXPECT_EQ(other.outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(other.http_status, 400);
}

TEST_F(RazorpayAgainstFake, CaptureWhoseAnswerWasLostEndsOk)
{
	const std::string payment = PaidPayment(50000, "authorized", "INV-CAPTURE-LOST");
	fake_->AddFault({{"mode", "status"},
	                 {"status", 502},
	                 {"phase", "after"},
	                 {"path_prefix", "/v1/payments/" + payment + "/capture"},
	                 {"count", 1}});
	auto client = Client();
	const auto result = client.Capture(payment, 50000, "INR");
	ASSERT_EQ(result.outcome, GatewayOutcome::kOk) << result.error_message;
	EXPECT_EQ(result.attempts, 3); // 502 (captured), 400 already captured, the fetch
	EXPECT_EQ(result.body["status"], "captured");
	EXPECT_EQ(fake_->Requests("/v1/payments/" + payment + "/capture", 2).size(), 2u);
}

TEST_F(RazorpayAgainstFake, FetchesOrderAndItsPayments)
{
	const std::string payment = PaidPayment(30000, "captured", "INV-FETCH");
	auto client = Client();
	const auto fetched = client.FetchPayment(payment);
	ASSERT_EQ(fetched.outcome, GatewayOutcome::kOk);
	const std::string order_id = fetched.body["order_id"];
	const auto order = client.FetchOrder(order_id);
	ASSERT_EQ(order.outcome, GatewayOutcome::kOk);
	EXPECT_EQ(order.body["status"], "paid");
	EXPECT_EQ(order.body["amount_paid"], 30000);
	const auto payments = client.FetchOrderPayments(order_id);
	ASSERT_EQ(payments.outcome, GatewayOutcome::kOk);
	ASSERT_EQ(payments.body["count"], 1);
	EXPECT_EQ(payments.body["items"][0]["id"], payment);
}

TEST_F(RazorpayAgainstFake, PathInjectionIdsAreRefusedWithoutARequest)
{
	auto client = Client();
	for (const std::string id : {"../orders", "pay_1/refund", "x?y=1", "pay%2F1", ""}) {
		const auto result = client.FetchPayment(id);
		EXPECT_EQ(result.outcome, GatewayOutcome::kRejected) << id;
		EXPECT_EQ(result.attempts, 0) << id;
		EXPECT_EQ(client.Refund(id, std::nullopt, "refund-key-0001").attempts, 0) << id;
	}
	EXPECT_EQ(fake_->Requests("/").size(), 0u);
}

TEST_F(RazorpayAgainstFake, ConnectionRefusedIsUnavailable)
{
	RefusingPort closed;
	auto options = Options();
	options.base_url = "http://127.0.0.1:" + std::to_string(closed.port());
	RazorpayClient client(*transport_, options, sleeper_.AsSleeper());
	const auto result = client.CreateOrder(50000, "INR", "INV-REFUSED");
	EXPECT_EQ(result.outcome, GatewayOutcome::kUnavailable);
	EXPECT_EQ(result.attempts, 3);
	EXPECT_EQ(result.http_status, 0);
	EXPECT_EQ(result.error_code, "transport_connect");
	EXPECT_NE(result.error_message.find("connect"), std::string::npos) << result.error_message;
	EXPECT_EQ(result.error_message.find("rzp_test_secret_NOT_REAL"), std::string::npos);
}

// ---- Stripe against fake_stripe.py --------------------------------------------------------------------------------

class StripeAgainstFake : public ::testing::Test {
protected:
	void
	SetUp() override
	{
		if (!sidecar::testing::HavePython3())
			GTEST_SKIP() << "python3 is not on PATH";
		fake_ = std::make_unique<FakeGateway>("fake_stripe.py");
		transport_ = MakeCurlTransport();
		sleeper_.really_sleep = true;
	}

	StripeOptions
	Options()
	{
		StripeOptions options;
		options.base_url = fake_->BaseUrl();
		options.secret_key = "sk_test_FakeSecretKey0000000000";
		options.timeout = milliseconds(5000);
		options.api_version = "2024-06-20";
		return options;
	}

	StripeClient
	Client()
	{
		return StripeClient(*transport_, Options(), sleeper_.AsSleeper());
	}

	// A succeeded PaymentIntent of `amount` paise (created and confirmed with pm_card_visa).
	std::string
	SucceededIntent(std::int64_t amount, const std::string& key)
	{
		PaymentIntentParams params;
		params.amount_paise = amount;
		params.currency = "inr";
		params.idempotency_key = key;
		params.payment_method = "pm_card_visa";
		params.confirm = true;
		const auto created = Client().CreatePaymentIntent(params);
		if (created.outcome != GatewayOutcome::kOk || created.body["status"] != "succeeded")
			throw std::runtime_error("intent: " + created.body.dump());
		return created.body["id"];
	}

	std::unique_ptr<FakeGateway> fake_;
	std::unique_ptr<HttpTransport> transport_;
	RecordingSleeper sleeper_;
};

TEST_F(StripeAgainstFake, CreatePaymentIntentSendsTheFormAndTheKey)
{
	PaymentIntentParams params;
	params.amount_paise = 29935;
	params.currency = "INR";
	params.idempotency_key = "pi-INV-2025-000123-1";
	params.metadata = {{"invoice_id", "INV-2025-000123"}, {"note", "Plan ₹299 & more"}};
	params.description = "Invoice INV-2025-000123";
	params.automatic_payment_methods = true;
	auto client = Client();
	const auto result = client.CreatePaymentIntent(params);
	ASSERT_EQ(result.outcome, GatewayOutcome::kOk) << result.error_message;
	EXPECT_EQ(result.attempts, 1);
	EXPECT_EQ(result.body["status"], "requires_payment_method");
	EXPECT_EQ(result.body["amount"], 29935);
	EXPECT_EQ(result.body["currency"], "inr");

	const auto requests = fake_->Requests("/v1/payment_intents", 1);
	ASSERT_EQ(requests.size(), 1u);
	EXPECT_EQ(requests[0]["body"], "amount=29935&currency=inr&automatic_payment_methods[enabled]=true"
	                               "&description=Invoice%20INV-2025-000123&metadata[invoice_id]=INV-2025-000123"
	                               "&metadata[note]=Plan%20%E2%82%B9299%20%26%20more");
	EXPECT_EQ(requests[0]["headers"]["idempotency-key"], "pi-INV-2025-000123-1");
	EXPECT_EQ(requests[0]["headers"]["authorization"], "Bearer sk_test_FakeSecretKey0000000000");
	EXPECT_EQ(requests[0]["headers"]["content-type"], "application/x-www-form-urlencoded");
	EXPECT_EQ(requests[0]["headers"]["stripe-version"], "2024-06-20");

	const auto intent = fake_->State()["payment_intents"][result.body["id"].get<std::string>()];
	EXPECT_EQ(intent["metadata"], (json{{"invoice_id", "INV-2025-000123"}, {"note", "Plan ₹299 & more"}}));
	EXPECT_EQ(intent["description"], "Invoice INV-2025-000123");
	EXPECT_EQ(intent["automatic_payment_methods"], (json{{"enabled", true}}));
}

TEST_F(StripeAgainstFake, ServerErrorThenSuccessMakesOneIntent)
{
	fake_->AddFault({{"mode", "status"}, {"status", 500}, {"path_prefix", "/v1/payment_intents"}, {"count", 1}});
	PaymentIntentParams params;
	params.amount_paise = 10000;
	params.currency = "inr";
	params.idempotency_key = "pi-500-then-200";
	auto client = Client();
	const auto result = client.CreatePaymentIntent(params);
	ASSERT_EQ(result.outcome, GatewayOutcome::kOk) << result.error_message;
	EXPECT_EQ(result.attempts, 2);
	EXPECT_EQ(fake_->State()["payment_intents"].size(), 1u);
	const auto requests = fake_->Requests("/v1/payment_intents", 2);
	ASSERT_EQ(requests.size(), 2u);
	EXPECT_EQ(Statuses(requests), (std::multiset<std::string>{"200", "500"}));
	EXPECT_EQ(requests[0]["headers"]["idempotency-key"], "pi-500-then-200");
	EXPECT_EQ(requests[1]["headers"]["idempotency-key"], "pi-500-then-200");
	EXPECT_EQ(requests[1]["body"], requests[0]["body"]);
}

TEST_F(StripeAgainstFake, AnIntentCreatedButNotHeardOfIsReplayed)
{
	fake_->AddFault({{"mode", "drop"}, {"phase", "after"}, {"path_prefix", "/v1/payment_intents"}, {"count", 1}});
	PaymentIntentParams params;
	params.amount_paise = 10000;
	params.currency = "inr";
	params.idempotency_key = "pi-dropped-after";
	auto client = Client();
	const auto result = client.CreatePaymentIntent(params);
	ASSERT_EQ(result.outcome, GatewayOutcome::kOk) << result.error_message;
	EXPECT_EQ(result.attempts, 2);
	const auto intents = fake_->State()["payment_intents"];
	ASSERT_EQ(intents.size(), 1u);
	EXPECT_EQ(result.body["id"], intents.begin().key());
	const auto requests = fake_->Requests("/v1/payment_intents", 2);
	ASSERT_EQ(requests.size(), 2u);
	EXPECT_EQ(requests[0]["status"], "dropped");
	EXPECT_EQ(requests[1]["replayed"], true);
}

TEST_F(StripeAgainstFake, DeclineOnConfirmIsDeclinedWithTheDeclineCode)
{
	PaymentIntentParams params;
	params.amount_paise = 10000;
	params.currency = "inr";
	params.idempotency_key = "pi-decline";
	auto client = Client();
	const auto created = client.CreatePaymentIntent(params);
	ASSERT_EQ(created.outcome, GatewayOutcome::kOk);
	const std::string id = created.body["id"];

	const auto declined = client.ConfirmPaymentIntent(id, "pm_card_chargeDeclined", "confirm-decline-1");
	EXPECT_EQ(declined.outcome, GatewayOutcome::kDeclined);
	EXPECT_EQ(declined.http_status, 402);
	EXPECT_EQ(declined.attempts, 1);
	EXPECT_EQ(declined.error_code, "generic_decline");
	EXPECT_EQ(declined.error_message, "Your card was declined.");
	EXPECT_EQ(declined.body["error"]["payment_intent"]["id"], id);

	// Without a decline_code the code is used.
	const auto expired = client.ConfirmPaymentIntent(id, "pm_card_chargeDeclinedExpiredCard", "confirm-decline-2");
	EXPECT_EQ(expired.outcome, GatewayOutcome::kDeclined);
	EXPECT_EQ(expired.error_code, "expired_card");

	const auto paid = client.ConfirmPaymentIntent(id, "pm_card_visa", "confirm-decline-3");
	ASSERT_EQ(paid.outcome, GatewayOutcome::kOk) << paid.error_message;
	EXPECT_EQ(paid.body["status"], "succeeded");
	const auto retrieved = client.RetrievePaymentIntent(id);
	ASSERT_EQ(retrieved.outcome, GatewayOutcome::kOk);
	EXPECT_EQ(retrieved.body["status"], "succeeded");
}

TEST_F(StripeAgainstFake, PartialRefundThenOverRefundIsRejected)
{
	const std::string intent = SucceededIntent(50000, "pi-refunds");
	auto client = Client();
	const auto partial =
		client.CreateRefund(intent, 20000, "requested_by_customer", {{"invoice_id", "INV-9"}}, "refund-pi-1");
	ASSERT_EQ(partial.outcome, GatewayOutcome::kOk) << partial.error_message;
	EXPECT_EQ(partial.body["amount"], 20000);
	EXPECT_EQ(partial.body["status"], "succeeded");
	const auto refund_requests = fake_->Requests("/v1/refunds", 1);
	ASSERT_EQ(refund_requests.size(), 1u);
	EXPECT_EQ(refund_requests[0]["body"],
	          "payment_intent=" + intent + "&amount=20000&metadata[invoice_id]=INV-9&reason=requested_by_customer");

	const auto over = client.CreateRefund(intent, 40000, "", {}, "refund-pi-2"); // 30000 remain
	EXPECT_EQ(over.outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(over.http_status, 400);
	EXPECT_EQ(over.attempts, 1);
	EXPECT_EQ(over.error_code, "amount_too_large");

	const auto state = fake_->State();
	ASSERT_EQ(state["refunds"].size(), 1u);
	EXPECT_EQ(state["refunds"].begin().value()["metadata"], (json{{"invoice_id", "INV-9"}}));
	const std::string charge = state["payment_intents"][intent]["latest_charge"];
	EXPECT_EQ(state["charges"][charge]["amount_refunded"], 20000);

	// The rest, without an amount.
	const auto rest = client.CreateRefund(intent, std::nullopt, "", {}, "refund-pi-3");
	ASSERT_EQ(rest.outcome, GatewayOutcome::kOk) << rest.error_message;
	EXPECT_EQ(rest.body["amount"], 30000);
}

TEST_F(StripeAgainstFake, KeyReusedWithOtherParametersIsRejected)
{
	const std::string intent = SucceededIntent(50000, "pi-key-reuse");
	auto client = Client();
	ASSERT_EQ(client.CreateRefund(intent, 1000, "", {}, "refund-reused").outcome, GatewayOutcome::kOk);
	// The same key and parameters: the same refund, replayed.
	const auto again = client.CreateRefund(intent, 1000, "", {}, "refund-reused");
	ASSERT_EQ(again.outcome, GatewayOutcome::kOk);
	const auto other = client.CreateRefund(intent, 2000, "", {}, "refund-reused");
	EXPECT_EQ(other.outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(other.http_status, 400);
	EXPECT_EQ(other.error_code, "idempotency_error");
	EXPECT_EQ(fake_->State()["refunds"].size(), 1u);
}

TEST_F(StripeAgainstFake, WrongKeyIsRejected401)
{
	auto options = Options();
	options.secret_key = "sk_test_WrongKey000000000000000";
	StripeClient client(*transport_, options, sleeper_.AsSleeper());
	const auto result = client.RetrievePaymentIntent("pi_Whatever");
	EXPECT_EQ(result.outcome, GatewayOutcome::kRejected);
	EXPECT_EQ(result.http_status, 401);
	EXPECT_EQ(result.error_code, "invalid_request_error");
}

TEST_F(StripeAgainstFake, PathInjectionIdsAreRefusedWithoutARequest)
{
	auto client = Client();
	for (const std::string id : {"pi_1/cancel", "../refunds", "pi_1?expand[]=x", ""}) {
		EXPECT_EQ(client.RetrievePaymentIntent(id).attempts, 0) << id;
		EXPECT_EQ(client.ConfirmPaymentIntent(id, "pm_card_visa", "confirm-x").attempts, 0) << id;
	}
	EXPECT_EQ(fake_->Requests("/").size(), 0u);
}

TEST_F(StripeAgainstFake, ConnectionRefusedIsUnavailable)
{
	RefusingPort closed;
	auto options = Options();
	options.base_url = "http://127.0.0.1:" + std::to_string(closed.port());
	StripeClient client(*transport_, options, sleeper_.AsSleeper());
	const auto result = client.RetrievePaymentIntent("pi_Whatever");
	EXPECT_EQ(result.outcome, GatewayOutcome::kUnavailable);
	EXPECT_EQ(result.attempts, 3);
	EXPECT_EQ(result.error_code, "transport_connect");
	EXPECT_NE(result.error_message.find("connect"), std::string::npos) << result.error_message;
}

} // namespace
} // namespace balatrix::sidecar::clients
