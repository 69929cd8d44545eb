/*
 * Core zone: expected failures as values.
 *
 * Core code returns a Status (or writes its result through an out-parameter and returns a Status)
 * for every failure a caller can cause: bad input, a missing rate, a value out of range. Exceptions
 * are reserved for bugs and for std::bad_alloc; the PostgreSQL bridge (extension/pg/guard.hpp)
 * turns both kinds into an ERROR with a real SQLSTATE.
 */
#pragma once

#ifdef POSTGRES_H
#error "extension/core must not see PostgreSQL headers: include core headers before pg_prelude.hpp"
#endif

#include <string>
#include <utility>

namespace balatrix::core {

// Each code maps to exactly one SQLSTATE in extension/pg/guard.cpp (and to one HTTP status in
// the sidecar). Add codes here, never reuse one for a different meaning.
enum class ErrorCode {
	kInvalidParameter,    // 22023 invalid_parameter_value
	kInvalidText,         // 22P02 invalid_text_representation
	kOutOfRange,          // 22003 numeric_value_out_of_range
	kNotFound,            // P0002 no_data_found
	kInternal,            // XX000 internal_error: a bug
};

// A failure: code plus a message for the user, and optional detail / hint (errdetail / errhint).
struct Error {
	ErrorCode code = ErrorCode::kInternal;
	std::string message;
	std::string detail;
	std::string hint;
};

// Success, or one Error. Cheap to return: no allocation on success.
class Status {
public:
	Status() = default;
	Status(Error error) : ok_(false), error_(std::move(error)) {}

	static Status
	Ok()
	{
		return Status();
	}

	bool
	ok() const
	{
		return ok_;
	}

	const Error &
	error() const
	{
		return error_;
	}

private:
	bool ok_ = true;
	Error error_;
};

} // namespace balatrix::core
