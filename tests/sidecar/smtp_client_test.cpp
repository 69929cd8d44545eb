// SmtpClient against a real SMTP server: tests/fakes/smtp_capture.py (aiosmtpd, or its built-in fallback), started
// per test on a kernel-chosen port in a mkdtemp directory; skipped when python3 is missing. What arrived is read
// back from the server's index.json and .eml files, never from the client.
#include "clients/smtp_client.hpp"
#include "fake_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>


namespace balatrix::sidecar::clients {
namespace {

using nlohmann::json;

using sidecar::testing::ReadWholeFile;

// One smtp_capture.py process, its mail in <dir>/mail (see fake_process.hpp).
class SmtpCapture {
public:
	explicit SmtpCapture(std::vector<std::string> extra = {}) : process_("smtp_capture.py", "--dir", "mail", extra) {}

	SmtpCapture(const SmtpCapture&) = delete;
	SmtpCapture& operator=(const SmtpCapture&) = delete;

	int
	port() const
	{
		return process_.port();
	}

	json
	Index() const
	{
		const std::string text = ReadWholeFile(process_.dir() + "/index.json");
		return text.empty() ? json::array() : json::parse(text);
	}

	std::string
	Eml(const std::string& file) const
	{
		return ReadWholeFile(process_.dir() + "/" + file);
	}

private:
	sidecar::testing::FakeProcess process_;
};

std::string
Built(const std::string& subject, const std::string& body, const std::string& id)
{
	MailMessage message;
	message.from = Mailbox{"Acme Telecom", "billing@acme.example"};
	message.to = "asha@example.com";
	message.subject = subject;
	message.body = body;
	message.message_id = id;
	message.date = std::chrono::system_clock::now();
	return std::get<BuiltMail>(BuildMailMessage(message)).data;
}

class SmtpClientTest : public ::testing::Test {
protected:
	void
	SetUp() override
	{
		if (!sidecar::testing::HavePython3())
			GTEST_SKIP() << "python3 is not installed";
		curl_global_init(CURL_GLOBAL_DEFAULT);
	}
};

TEST_F(SmtpClientTest, DeliversOneMessageExactly)
{
	SmtpCapture server;
	SmtpClient client(SmtpOptions{"smtp://127.0.0.1:" + std::to_string(server.port())});
	// A line that is only "." would end DATA early unless dot-stuffed; a line starting with "." must keep it.
	const std::string data = Built("Payment received: \u20b9500.00", "Dear Asha,\n.\n.hidden\nThanks.\n",
	                               "9a7b6c5d-3333-4333-8333-000000000004");
	const auto result = client.Send("billing@acme.example", "asha@example.com", data);
	ASSERT_TRUE(result.ok) << result.error;
	EXPECT_EQ(result.smtp_code, 250);
	const json index = server.Index();
	ASSERT_EQ(index.size(), 1u) << index.dump();
	EXPECT_EQ(index[0]["mail_from"], "billing@acme.example");
	EXPECT_EQ(index[0]["rcpt_tos"], json::array({"asha@example.com"}));
	EXPECT_EQ(index[0]["subject"], "Payment received: \u20b9500.00"); // decoded by Python's e-mail parser
	EXPECT_EQ(index[0]["from"], "Acme Telecom <billing@acme.example>");
	EXPECT_EQ(index[0]["to"], "asha@example.com");
	EXPECT_EQ(index[0]["message_id"], "<9a7b6c5d-3333-4333-8333-000000000004@balatrix>");
	// The server's copy is the message as built, byte for byte (SMTP dot-stuffing undone).
	EXPECT_EQ(server.Eml(index[0]["file"].get<std::string>()), data);
}

TEST_F(SmtpClientTest, AuthenticatesWithTheUrlCredentials)
{
	SmtpCapture server({"--require-auth"});
	SmtpClient anonymous(SmtpOptions{"smtp://127.0.0.1:" + std::to_string(server.port())});
	const std::string data = Built("Hello", "Hi\n", "id-1");
	const auto refused = anonymous.Send("billing@acme.example", "asha@example.com", data);
	EXPECT_FALSE(refused.ok);
	EXPECT_EQ(refused.smtp_code, 530) << refused.error;

	// A password on a loopback host: plain SMTP is allowed (the fake has no TLS); elsewhere STARTTLS is required.
	SmtpClient client(SmtpOptions{"smtp://mailer:pa55-word@127.0.0.1:" + std::to_string(server.port())});
	const auto result = client.Send("billing@acme.example", "asha@example.com", data);
	ASSERT_TRUE(result.ok) << result.error;
	const json index = server.Index();
	ASSERT_EQ(index.size(), 1u);
	EXPECT_EQ(index[0]["auth_user"], "mailer");
}

TEST_F(SmtpClientTest, FailuresNameNoCredential)
{
	// A port that is bound but not listening: the connection is refused at once.
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(fd, 0);
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t length = sizeof(address);
	ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
	ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
	const std::string port = std::to_string(ntohs(address.sin_port));
	SmtpClient client(SmtpOptions{"smtp://mailer:Sup3rS3cret@127.0.0.1:" + port});
	const auto result = client.Send("billing@acme.example", "asha@example.com", Built("Hello", "Hi\n", "id-2"));
	::close(fd);
	EXPECT_FALSE(result.ok);
	EXPECT_FALSE(result.error.empty());
	EXPECT_EQ(result.error.find("Sup3rS3cret"), std::string::npos) << result.error;
	EXPECT_EQ(result.error.find('\n'), std::string::npos) << result.error;

	// Envelope addresses are checked before anything is sent.
	const auto bad = client.Send("billing@acme.example", "a@b.in>\r\nRCPT TO:<c@d.in", "x");
	EXPECT_FALSE(bad.ok);
	EXPECT_EQ(bad.error, "invalid envelope address");
}

} // namespace
} // namespace balatrix::sidecar::clients
