// The fixed security headers and the header merge that keeps them from being overridden.
#include "http/security_headers.hpp"

#include <gtest/gtest.h>

namespace balatrix::sidecar::http {
namespace {

TEST(SecurityHeaders, TheFixedSetWithoutHsts)
{
	const HeaderList expected = {
		{"X-Content-Type-Options", "nosniff"},
		{"X-Frame-Options", "DENY"},
		{"Referrer-Policy", "no-referrer"},
		{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
		{"Cache-Control", "no-store"},
	};
	EXPECT_EQ(SecurityHeaders(SecurityHeaderOptions{}), expected);
}

TEST(SecurityHeaders, HstsOnlyWhenConfigured)
{
	SecurityHeaderOptions options;
	options.hsts_max_age = std::chrono::seconds(31536000);
	const HeaderList headers = SecurityHeaders(options);
	ASSERT_EQ(headers.size(), 6u);
	EXPECT_EQ(headers.back(),
	          (HeaderList::value_type{"Strict-Transport-Security", "max-age=31536000; includeSubDomains"}));
}

TEST(MergeHeaders, FirstOccurrenceWinsCaseInsensitively)
{
	const HeaderList security = {{"Cache-Control", "no-store"}, {"X-Frame-Options", "DENY"}};
	const HeaderList cors = {{"Vary", "Origin"}};
	const HeaderList handler = {
		{"cache-control", "public, max-age=3600"}, // cannot weaken the policy
		{"X-FRAME-OPTIONS", "ALLOWALL"},           {"Vary", "Accept"}, {"Allow", "GET"}, {"Retry-After", "60"},
	};
	const HeaderList expected = {
		{"Cache-Control", "no-store"}, {"X-Frame-Options", "DENY"}, {"Vary", "Origin"}, {"Allow", "GET"},
		{"Retry-After", "60"},
	};
	EXPECT_EQ(MergeHeaders({&security, &cors, &handler}), expected);
}

TEST(MergeHeaders, DropsHeadersThatCouldSplitTheResponse)
{
	const HeaderList dangerous = {
		{"X-Ok", "fine"},  {"X-Injected", "a\r\nSet-Cookie: session=evil"},
		{"X-Lf", "a\nb"},  {"X-Nul", std::string("a\0b", 3)},
		{"Bad Name", "x"}, {"Bad:Name", "x"},
		{"", "x"},         {"X-Name\r\n", "x"},
	};
	EXPECT_EQ(MergeHeaders({&dangerous}), (HeaderList{{"X-Ok", "fine"}}));
	EXPECT_TRUE(MergeHeaders({nullptr}).empty());
}

} // namespace
} // namespace balatrix::sidecar::http
