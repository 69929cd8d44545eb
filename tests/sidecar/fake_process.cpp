#include "fake_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace balatrix::sidecar::testing {

std::string
ReadWholeFile(const std::string& path)
{
	std::ifstream in(path, std::ios::binary);
	std::stringstream buffer;
	buffer << in.rdbuf();
	return buffer.str();
}

bool
HavePython3()
{
	return std::system("command -v python3 >/dev/null 2>&1") == 0;
}

FakeProcess::FakeProcess(const std::string& script, const std::string& dir_flag, const std::string& subdir,
                         const std::vector<std::string>& extra)
{
	char pattern[] = "/tmp/balatrix_fake_XXXXXX";
	if (::mkdtemp(pattern) == nullptr)
		throw std::runtime_error("mkdtemp failed");
	root_ = pattern;
	files_ = subdir.empty() ? root_ : root_ + "/" + subdir;
	const std::string log = root_ + "/fake.log";
	std::vector<std::string> args = {"python3", std::string(BALATRIX_TEST_FAKES_DIR) + "/" + script, "--port", "0",
	                                 dir_flag, files_};
	args.insert(args.end(), extra.begin(), extra.end());
	std::vector<char*> argv;
	for (auto& arg : args)
		argv.push_back(arg.data());
	argv.push_back(nullptr);
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
	const int spawned = posix_spawnp(&pid_, "python3", &actions, nullptr, argv.data(), environ);
	posix_spawn_file_actions_destroy(&actions);
	if (spawned != 0) {
		pid_ = -1;
		throw std::runtime_error("posix_spawnp python3 failed");
	}
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
	while (port_ == 0) {
		std::ifstream port_file(files_ + "/port");
		int port = 0;
		if (port_file >> port && port > 0) {
			port_ = port;
			break;
		}
		int status = 0;
		if (::waitpid(pid_, &status, WNOHANG) == pid_) {
			pid_ = -1;
			throw std::runtime_error(script + " exited at start: " + ReadWholeFile(log));
		}
		if (std::chrono::steady_clock::now() > deadline)
			throw std::runtime_error(script + " did not write its port: " + ReadWholeFile(log));
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
}

FakeProcess::~FakeProcess()
{
	if (pid_ > 0) {
		::kill(pid_, SIGTERM);
		int status = 0;
		::waitpid(pid_, &status, 0);
	}
	std::error_code ignored;
	std::filesystem::remove_all(root_, ignored);
}

} // namespace balatrix::sidecar::testing
