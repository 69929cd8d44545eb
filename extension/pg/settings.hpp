/*
 * PG zone: the variables behind the balatrix.* settings (defined in module.cpp).
 */
#pragma once

#include "pg_prelude.hpp"

namespace balatrix::pg {

// balatrix.gstin_verify_check_character (bool, default on, user-settable).
extern bool gstin_verify_check_character;

} // namespace balatrix::pg
