#include "role.hpp"

#include <utility>

namespace balatrix::sidecar {
namespace {

constexpr std::pair<std::string_view, Role> kRoles[] = {
	{"super_admin", Role::kSuperAdmin}, {"admin", Role::kAdmin},       {"support", Role::kSupport},
	{"reseller", Role::kReseller},      {"customer", Role::kCustomer},
};

} // namespace

std::optional<Role>
ParseRole(std::string_view name)
{
	for (const auto& [candidate, role] : kRoles) {
		if (candidate == name)
			return role;
	}
	return std::nullopt;
}

std::string_view
RoleName(Role role)
{
	for (const auto& [name, candidate] : kRoles) {
		if (candidate == role)
			return name;
	}
	return "customer";
}

} // namespace balatrix::sidecar
