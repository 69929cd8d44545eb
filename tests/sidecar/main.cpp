// The sidecar tests' main: libcurl must be initialised once, before any thread exists (libcurl-thread(3)),
// and the handler tests start Pistache threads.
#include <curl/curl.h>
#include <gtest/gtest.h>

int
main(int argc, char** argv)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	::testing::InitGoogleTest(&argc, argv);
	const int result = RUN_ALL_TESTS();
	curl_global_cleanup();
	return result;
}
