/*
 * Unit tests: the deliberate failures behind the bridge tests (extension/core/src/fault.cpp).
 *
 * The PostgreSQL side (sql/bridge.sql, tests/pgtap/bridge.sql) proves what each kind becomes in SQL;
 * this file pins what core itself does, so a change of type (say logic_error -> runtime_error)
 * shows up here first. Exception types are compared exactly: std::out_of_range derives from
 * std::logic_error, so EXPECT_THROW(..., std::logic_error) alone could not tell them apart.
 */
#include "balatrix/core/fault.hpp"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>

namespace balatrix::core {
namespace {

// Runs RaiseFault(kind) and returns the dynamic type of what it threw (nullptr if nothing was thrown),
// with its what() in *what.
const std::type_info *
ThrownType(std::string_view kind, std::string *what, std::string *out)
{
	try {
		(void) RaiseFault(kind, out);
	} catch (const std::exception &e) {
		*what = e.what();
		return &typeid(e);
	} catch (...) {
		*what = "(not a std::exception)";
		return &typeid(void);
	}
	return nullptr;
}

TEST(RaiseFault, OkSucceedsAndWritesOk)
{
	std::string out = "unchanged";
	Status status = RaiseFault("ok", &out);
	EXPECT_TRUE(status.ok());
	EXPECT_EQ(out, "ok");
}

TEST(RaiseFault, StatusIsAnExpectedFailureWithDetailAndHint)
{
	std::string out = "unchanged";
	Status status;
	ASSERT_NO_THROW(status = RaiseFault("status", &out));
	ASSERT_FALSE(status.ok());
	EXPECT_EQ(status.error().code, ErrorCode::kInvalidParameter);
	EXPECT_EQ(status.error().message, "deliberate expected failure");
	EXPECT_EQ(status.error().detail, "kind = status");
	EXPECT_EQ(status.error().hint, "this is the path business errors take");
	EXPECT_EQ(out, "unchanged");
}

TEST(RaiseFault, LogicErrorThrowsExactlyStdLogicError)
{
	std::string out = "unchanged";
	EXPECT_THROW((void) RaiseFault("logic_error", &out), std::logic_error);
	std::string what;
	const std::type_info *type = ThrownType("logic_error", &what, &out);
	ASSERT_NE(type, nullptr) << "nothing thrown";
	EXPECT_TRUE(*type == typeid(std::logic_error)) << type->name();
	EXPECT_EQ(what, "deliberate logic error in core code");
	EXPECT_EQ(out, "unchanged");
}

TEST(RaiseFault, BadAllocThrowsExactlyStdBadAlloc)
{
	std::string out = "unchanged";
	EXPECT_THROW((void) RaiseFault("bad_alloc", &out), std::bad_alloc);
	std::string what;
	const std::type_info *type = ThrownType("bad_alloc", &what, &out);
	ASSERT_NE(type, nullptr) << "nothing thrown";
	EXPECT_TRUE(*type == typeid(std::bad_alloc)) << type->name();
	EXPECT_EQ(out, "unchanged");
}

TEST(RaiseFault, OutOfRangeComesFromTheStandardLibrary)
{
	std::string out = "unchanged";
	EXPECT_THROW((void) RaiseFault("out_of_range", &out), std::out_of_range);
	std::string what;
	const std::type_info *type = ThrownType("out_of_range", &what, &out);
	ASSERT_NE(type, nullptr) << "nothing thrown";
	EXPECT_TRUE(*type == typeid(std::out_of_range)) << type->name();
	// Thrown by std::vector::at, so the text is the library's, not ours; it names the index.
	EXPECT_NE(what.find('3'), std::string::npos) << what;
	// The throw happens before *out is assigned.
	EXPECT_EQ(out, "unchanged");
}

TEST(RaiseFault, UnknownKindsAreExpectedFailuresNamingTheKind)
{
	const std::string_view kinds[] = {
		"",
		"OK",                        // kinds are case-sensitive
		"ok ",                       // and not trimmed
		std::string_view("ok\0", 3), // an embedded NUL is part of the kind
		"pg_error",                  // PG-zone only (extension/pg/fault.cpp): unknown to core
		"logic-error",
		"segfault",
	};
	for (std::string_view kind : kinds) {
		SCOPED_TRACE(testing::PrintToString(std::string(kind)));
		std::string out = "unchanged";
		Status status;
		ASSERT_NO_THROW(status = RaiseFault(kind, &out));
		ASSERT_FALSE(status.ok());
		EXPECT_EQ(status.error().code, ErrorCode::kInvalidParameter);
		EXPECT_EQ(status.error().message, "unknown fault kind \"" + std::string(kind) + "\"");
		EXPECT_EQ(status.error().detail, "");
		EXPECT_EQ(status.error().hint, "valid kinds: ok, status, logic_error, bad_alloc, out_of_range");
		EXPECT_EQ(out, "unchanged");
	}
}

TEST(Status, DefaultIsOkAndAnErrorIsNot)
{
	EXPECT_TRUE(Status().ok());
	EXPECT_TRUE(Status::Ok().ok());
	Status failed(Error{ErrorCode::kNotFound, "m", "d", "h"});
	EXPECT_FALSE(failed.ok());
	EXPECT_EQ(failed.error().code, ErrorCode::kNotFound);
	EXPECT_EQ(failed.error().message, "m");
	EXPECT_EQ(failed.error().detail, "d");
	EXPECT_EQ(failed.error().hint, "h");
}

} // namespace
} // namespace balatrix::core
