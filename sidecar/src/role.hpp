/*
 * The roles of PRODUCT.md §8. Registration always yields kCustomer; staff roles are granted by admins.
 */
#pragma once

#include <optional>
#include <string_view>

namespace balatrix::sidecar {

enum class Role { kSuperAdmin, kAdmin, kSupport, kReseller, kCustomer };

// "super_admin", "admin", "support", "reseller", "customer" (exact, lower case); nullopt for anything else.
std::optional<Role> ParseRole(std::string_view name);

std::string_view RoleName(Role role);

} // namespace balatrix::sidecar
