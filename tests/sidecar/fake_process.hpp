// One stand-in of tests/fakes (a python3 script) run by a test: started on a kernel-chosen port with its files in
// a fresh mkdtemp directory, stopped with SIGTERM and reaped in the destructor, the directory removed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace balatrix::sidecar::testing {

// The whole file, or "" when it cannot be read.
std::string ReadWholeFile(const std::string& path);

// True when python3 is on PATH (the fake-backed tests skip otherwise).
bool HavePython3();

class FakeProcess {
public:
	// Runs `python3 <BALATRIX_TEST_FAKES_DIR>/<script> --port 0 <dir_flag> <dir>[/<subdir>] <extra...>` and waits
	// (up to 20 s) for the port file the fakes write there. Throws std::runtime_error, with the fake's output,
	// when it exits or never writes its port.
	FakeProcess(const std::string& script, const std::string& dir_flag, const std::string& subdir = "",
	            const std::vector<std::string>& extra = {});
	~FakeProcess();
	FakeProcess(const FakeProcess&) = delete;
	FakeProcess& operator=(const FakeProcess&) = delete;

	int
	port() const
	{
		return port_;
	}

	// The directory the fake was given (with the subdirectory).
	const std::string&
	dir() const
	{
		return files_;
	}

private:
	std::string root_;  // the mkdtemp directory (removed at the end)
	std::string files_; // root_ or root_/subdir
	pid_t pid_ = -1;
	int port_ = 0;
};

} // namespace balatrix::sidecar::testing
