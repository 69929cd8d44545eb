#include "api/registry.hpp"

namespace balatrix::sidecar::api {

void
RegisterApiRoutes(Registry& registry)
{
	RegisterAuthRoutes(registry);
	RegisterCustomerRoutes(registry);
	RegisterAccountRoutes(registry);
	RegisterRatePlanRoutes(registry);
	RegisterSubscriptionRoutes(registry);
	RegisterDidRoutes(registry);
	RegisterCdrRoutes(registry);
	RegisterInvoiceRoutes(registry);
	RegisterReportRoutes(registry);
	RegisterPaymentRoutes(registry);
	RegisterWebhookEndpointRoutes(registry);
}

} // namespace balatrix::sidecar::api
