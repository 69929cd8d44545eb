#include "http/request_id.hpp"

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace balatrix::sidecar::http {
namespace {

const std::regex kUuidV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

TEST(RequestId, AcceptsSaneTokens)
{
	EXPECT_TRUE(IsAcceptableRequestId("a"));
	EXPECT_TRUE(IsAcceptableRequestId("3f2c1a9e-7b4d-4c2e-9a1f-0e5d6c7b8a90"));
	EXPECT_TRUE(IsAcceptableRequestId("trace.ABC_def-123"));
	EXPECT_TRUE(IsAcceptableRequestId(std::string(128, 'x')));
}

TEST(RequestId, RejectsEverythingElse)
{
	EXPECT_FALSE(IsAcceptableRequestId(""));
	EXPECT_FALSE(IsAcceptableRequestId(std::string(129, 'x')));
	for (const std::string& bad :
	     std::vector<std::string>{"has space", "quote\"", "new\nline", "tab\t", "slash/", "colon:", "semi;",
	                              "uni\xc3\xa9", std::string("nul\0x", 5)}) {
		EXPECT_FALSE(IsAcceptableRequestId(bad)) << bad;
	}
}

TEST(RequestId, GeneratesDistinctVersion4Uuids)
{
	RequestIdGenerator generator;
	std::set<std::string> seen;
	for (int i = 0; i < 1000; ++i) {
		const std::string id = generator.Next();
		EXPECT_TRUE(std::regex_match(id, kUuidV4)) << id;
		EXPECT_TRUE(IsAcceptableRequestId(id)) << id;
		EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
	}
}

TEST(RequestId, GeneratorsAreIndependentlySeeded)
{
	RequestIdGenerator first;
	RequestIdGenerator second;
	EXPECT_NE(first.Next(), second.Next());
}

TEST(RequestId, GeneratorIsSafeAcrossThreads)
{
	RequestIdGenerator generator;
	std::vector<std::vector<std::string>> produced(4);
	std::vector<std::thread> threads;
	for (auto& ids : produced)
		threads.emplace_back([&generator, &ids] {
			for (int i = 0; i < 500; ++i)
				ids.push_back(generator.Next());
		});
	for (auto& thread : threads)
		thread.join();
	std::set<std::string> all;
	for (const auto& ids : produced)
		all.insert(ids.begin(), ids.end());
	EXPECT_EQ(all.size(), 2000u);
}

TEST(RequestId, ResolveKeepsSaneIdsAndReplacesTheRest)
{
	RequestIdGenerator generator;
	EXPECT_EQ(ResolveRequestId(std::string("client-id-1"), generator), "client-id-1");
	const std::string replaced = ResolveRequestId(std::string("evil\r\nX-Injected: 1"), generator);
	EXPECT_TRUE(std::regex_match(replaced, kUuidV4)) << replaced;
	EXPECT_TRUE(std::regex_match(ResolveRequestId(std::nullopt, generator), kUuidV4));
}

} // namespace
} // namespace balatrix::sidecar::http
